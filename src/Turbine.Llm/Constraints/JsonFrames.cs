namespace Turbine.Llm.Constraints;

/// <summary>
/// The state of reading a JSON text character by character against a shape: the innermost value being read, each frame
/// knowing the one it sits in. Frames are immutable, so a state can be tried with many continuations (every token of
/// the vocabulary) without copying. The text is compact: no whitespace outside strings, so an output can never stall
/// on blanks; numbers are at most <see cref="NumberFrame.MaxLength"/> characters.
/// </summary>
internal abstract class Frame(Frame? parent)
{
    protected Frame? Parent { get; } = parent;

    /// <summary>The state after <paramref name="c"/>, or null when <paramref name="c"/> cannot come next.</summary>
    public abstract Frame? Advance(char c);

    /// <summary>Whether the value could end here (a number or literal that something else may follow).</summary>
    public virtual bool CanEnd => false;

    /// <summary>Whether free text fits here (inside a string of no fixed values): tokens that are part of a character go only here.</summary>
    public virtual bool TakesFreeText => false;

    /// <summary>Whether the whole text is complete.</summary>
    public bool IsComplete => this is DoneFrame || (CanEnd && Parent is null);

    /// <summary>The parent's state once a child value is complete; <paramref name="text"/> is a completed string's content.</summary>
    public virtual Frame Resume(string? text) => throw new InvalidOperationException($"{GetType().Name} holds no values");

    /// <summary>This value is complete: the parent goes on, or the text is done.</summary>
    protected Frame Completed(string? text = null) => Parent is null ? DoneFrame.Instance : Parent.Resume(text);

    /// <summary>The frame that reads a value of <paramref name="shape"/> starting with <paramref name="c"/>; null when none can.</summary>
    public static Frame? Start(JsonShape shape, Frame? parent, char c) => shape switch
    {
        AnyShape => c switch
        {
            '{' => new ObjectFrame(new ObjectShape([], Open: true), parent),
            '[' => Start(new ArrayShape(JsonShape.Any, 0, int.MaxValue), parent, c),
            '"' => new StringFrame(null, parent),
            't' or 'f' or 'n' => new LiteralFrame(["true", "false", "null"], parent, string.Empty).Advance(c),
            _ => new NumberFrame(Integer: false, parent).Advance(c),
        },
        ObjectShape o => c == '{' ? new ObjectFrame(o, parent) : null,
        ArrayShape a => c == '[' ? new ArrayFrame(a, parent) : null,
        StringShape s => c == '"' ? new StringFrame(s.Values, parent) : null,
        NumberShape n => new NumberFrame(n.Integer, parent).Advance(c),
        LiteralShape l => new LiteralFrame(l.Texts, parent, string.Empty).Advance(c),
        UnionShape u => u.Options.Select(option => Start(option, parent, c)).FirstOrDefault(frame => frame is not null),
        _ => null,
    };
}

/// <summary>The text is complete: nothing may follow.</summary>
internal sealed class DoneFrame() : Frame(null)
{
    public static readonly DoneFrame Instance = new();

    public override Frame? Advance(char c) => null;
}

/// <summary>Expects the first character of a value of <paramref name="shape"/>.</summary>
internal sealed class ValueFrame(JsonShape shape, Frame? parent) : Frame(parent)
{
    public override Frame? Advance(char c) => Start(shape, Parent, c);
}

/// <summary>Inside a string; with <paramref name="values"/>, only their prefixes (keys and enums, written without escapes).</summary>
internal sealed class StringFrame(IReadOnlyList<string>? values, Frame? parent, string text = "", int escape = 0) : Frame(parent)
{
    public override bool TakesFreeText => values is null && escape == 0;

    public override Frame? Advance(char c)
    {
        if (escape == 1)
        {
            return c == 'u' ? new StringFrame(values, Parent, text, 2) : "\"\\/bfnrt".Contains(c, StringComparison.Ordinal) ? new StringFrame(values, Parent, text) : null;
        }

        if (escape >= 2)
        {
            return char.IsAsciiHexDigit(c) ? new StringFrame(values, Parent, text, escape == 5 ? 0 : escape + 1) : null;
        }

        if (c == '"')
        {
            return values is null ? Completed() : values.Contains(text, StringComparer.Ordinal) ? Completed(text) : null;
        }

        if (c < ' ' || (c == '\\' && values is not null))
        {
            return null;
        }

        if (c == '\\')
        {
            return new StringFrame(values, Parent, text, 1);
        }

        if (values is null)
        {
            return this; // free text: nothing to remember
        }

        var longer = text + c;
        return values.Any(v => v.StartsWith(longer, StringComparison.Ordinal)) ? new StringFrame(values, Parent, longer) : null;
    }
}

/// <summary>A number, as JSON writes one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; integers without fraction or exponent.</summary>
internal sealed class NumberFrame(bool Integer, Frame? parent, NumberFrame.Part part = NumberFrame.Part.Start, int length = 0) : Frame(parent)
{
    public const int MaxLength = 24;

    internal enum Part
    {
        Start,
        Minus,
        Zero,
        Whole,
        Dot,
        Fraction,
        E,
        ExponentSign,
        Exponent,
    }

    public override bool CanEnd => part is Part.Zero or Part.Whole or Part.Fraction or Part.Exponent;

    public override Frame? Advance(char c)
    {
        var digit = char.IsAsciiDigit(c);
        Part? next = length >= MaxLength ? null : part switch
        {
            Part.Start when c == '-' => Part.Minus,
            Part.Start or Part.Minus when c == '0' => Part.Zero,
            Part.Start or Part.Minus when digit => Part.Whole,
            Part.Whole when digit => Part.Whole,
            Part.Zero or Part.Whole when c == '.' && !Integer => Part.Dot,
            Part.Dot or Part.Fraction when digit => Part.Fraction,
            Part.Zero or Part.Whole or Part.Fraction when (c is 'e' or 'E') && !Integer => Part.E,
            Part.E when c is '+' or '-' => Part.ExponentSign,
            Part.E or Part.ExponentSign or Part.Exponent when digit => Part.Exponent,
            _ => null,
        };
        if (next is { } advanced)
        {
            return new NumberFrame(Integer, Parent, advanced, length + 1);
        }

        return CanEnd ? Completed().Advance(c) : null; // the number ended: the character is the parent's
    }
}

/// <summary>One of some exact texts (true, false, null, numbers of an enum).</summary>
internal sealed class LiteralFrame(IReadOnlyList<string> texts, Frame? parent, string text) : Frame(parent)
{
    public override bool CanEnd => texts.Contains(text, StringComparer.Ordinal);

    public override Frame? Advance(char c)
    {
        var longer = text + c;
        if (texts.Any(t => t.StartsWith(longer, StringComparison.Ordinal)))
        {
            return new LiteralFrame(texts, Parent, longer);
        }

        return CanEnd ? Completed().Advance(c) : null;
    }
}

/// <summary>An object: its properties in the shape's order (optional ones may be skipped), or any keys when the shape is open.</summary>
internal sealed class ObjectFrame(ObjectShape shape, Frame? parent, ObjectFrame.Stage stage = ObjectFrame.Stage.AfterOpen, int next = 0, int current = -1) : Frame(parent)
{
    internal enum Stage
    {
        AfterOpen,
        ExpectKey,
        InKey,
        AfterKey,
        InValue,
        AfterValue,
    }

    /// <summary>Whether no required property is left, so the object may close.</summary>
    private bool CanClose => shape.Open || !shape.Properties.Skip(next).Any(p => p.Required);

    public override Frame? Advance(char c) => stage switch
    {
        Stage.AfterOpen when c == '}' && CanClose => Completed(),
        Stage.AfterOpen or Stage.ExpectKey when c == '"' && (shape.Open || next < shape.Properties.Count) =>
            new StringFrame(shape.Open ? null : AllowedKeys(), new ObjectFrame(shape, Parent, Stage.InKey, next)),
        Stage.AfterKey when c == ':' =>
            new ValueFrame(shape.Open ? JsonShape.Any : shape.Properties[current].Shape, new ObjectFrame(shape, Parent, Stage.InValue, shape.Open ? next : current + 1)),
        Stage.AfterValue when c == ',' && (shape.Open || next < shape.Properties.Count) => new ObjectFrame(shape, Parent, Stage.ExpectKey, next),
        Stage.AfterValue when c == '}' && CanClose => Completed(),
        _ => null,
    };

    public override Frame Resume(string? text) => stage == Stage.InKey
        ? new ObjectFrame(shape, Parent, Stage.AfterKey, next, shape.Open ? -1 : IndexOf(text!))
        : new ObjectFrame(shape, Parent, Stage.AfterValue, next);

    /// <summary>The keys that may come next: each property from here up to the first required one.</summary>
    private List<string> AllowedKeys()
    {
        var keys = new List<string>();
        for (var i = next; i < shape.Properties.Count; i++)
        {
            keys.Add(shape.Properties[i].Name);
            if (shape.Properties[i].Required)
            {
                break;
            }
        }

        return keys;
    }

    private int IndexOf(string key)
    {
        for (var i = next; i < shape.Properties.Count; i++)
        {
            if (shape.Properties[i].Name == key)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"'{key}' was allowed but is not a property");
    }
}

/// <summary>An array of values of one shape, between its item counts.</summary>
internal sealed class ArrayFrame(ArrayShape shape, Frame? parent, bool afterValue = false, int count = 0) : Frame(parent)
{
    public override Frame? Advance(char c)
    {
        if (afterValue)
        {
            return c == ',' && count < shape.MaxItems ? new ValueFrame(shape.Items, new ArrayFrame(shape, Parent, afterValue: false, count + 1))
                : c == ']' && count >= shape.MinItems ? Completed()
                : null;
        }

        // Right after '[': the first value, or ']' for an empty array.
        return c == ']' && shape.MinItems == 0 ? Completed()
            : shape.MaxItems > 0 ? Start(shape.Items, new ArrayFrame(shape, Parent, afterValue: false, 1), c)
            : null;
    }

    public override Frame Resume(string? text) => new ArrayFrame(shape, Parent, afterValue: true, count);
}

/// <summary>Fixed text the answer must hold, before (<paramref name="then"/> makes what follows) or after a JSON value.</summary>
internal sealed class FixedTextFrame(string text, int at, Func<Frame> then) : Frame(null)
{
    public override Frame? Advance(char c) =>
        text[at] != c ? null : at + 1 == text.Length ? then() : new FixedTextFrame(text, at + 1, then);
}

/// <summary>Holds a JSON value's place between fixed texts: when the value completes, the suffix must follow.</summary>
internal sealed class SuffixFrame(string suffix) : Frame(null)
{
    public override Frame? Advance(char c) => null;

    public override Frame Resume(string? text) =>
        suffix.Length == 0 ? DoneFrame.Instance : new FixedTextFrame(suffix, 0, () => DoneFrame.Instance);
}
