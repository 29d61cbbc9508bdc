using System.Globalization;
using System.Text;

namespace Turbine.Llm.Templates;

/// <summary>A variable no scope holds: false, empty when printed, and quietly undefined through attributes.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Value = new();

    private Undefined()
    {
    }

    public override string ToString() => string.Empty;
}

/// <summary>What <c>namespace(...)</c> makes: a mapping whose attributes <c>{% set ns.x = ... %}</c> may change from inside loops.</summary>
internal sealed class Namespace : Dictionary<string, object?>
{
    public Namespace()
        : base(StringComparer.Ordinal)
    {
    }
}

/// <summary>A function a template can call: positional and keyword arguments in, a value out.</summary>
internal delegate object? TemplateFunction(IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> keywords);

/// <summary>
/// The values of a template and Python's rules for them, which chat templates are written against: None, booleans,
/// integers (long) and floats (double), strings, lists, mappings (insertion-ordered), namespaces and functions;
/// truthiness, equality, ordering, and the text <c>str()</c> gives.
/// </summary>
internal static class TemplateValues
{
    public static bool IsTrue(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        System.Collections.ICollection c => c.Count > 0,
        _ => true,
    };

    public static new bool Equals(object? left, object? right) => (left, right) switch
    {
        (null, null) or (Undefined, Undefined) => true,
        (bool a, bool b) => a == b,
        (long a, long b) => a == b,
        (long or double or bool, long or double or bool) => ToDouble(left) == ToDouble(right),
        (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
        (List<object?> a, List<object?> b) => a.Count == b.Count && a.Zip(b).All(p => Equals(p.First, p.Second)),
        (Dictionary<string, object?> a, Dictionary<string, object?> b) => a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && Equals(p.Value, v)),
        _ => ReferenceEquals(left, right),
    };

    public static int Compare(object? left, object? right) => (left, right) switch
    {
        (long a, long b) => a.CompareTo(b),
        (long or double or bool, long or double or bool) => ToDouble(left).CompareTo(ToDouble(right)),
        (string a, string b) => string.CompareOrdinal(a, b),
        _ => throw new TemplateException($"cannot compare {TypeName(left)} with {TypeName(right)}"),
    };

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new TemplateException($"expected a number, got {TypeName(value)}"),
    };

    public static bool IsNumber(object? value) => value is long or double;

    /// <summary>The text <c>str(value)</c> gives in Python, which is what <c>{{ value }}</c> prints.</summary>
    public static string ToText(object? value) => value switch
    {
        null => "None",
        Undefined => string.Empty,
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatText(d),
        _ => Repr(value),
    };

    /// <summary>Python's <c>repr</c>: strings quoted, containers with their items' reprs.</summary>
    public static string Repr(object? value) => value switch
    {
        string s => s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? $"\"{s}\"" : $"'{s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'",
        List<object?> list => "[" + string.Join(", ", list.Select(Repr)) + "]",
        Dictionary<string, object?> map => "{" + string.Join(", ", map.Select(p => Repr(p.Key) + ": " + Repr(p.Value))) + "}",
        TemplateFunction or Macro => "<function>",
        _ => ToText(value),
    };

    /// <summary>A float as Python prints it: the shortest text that reads back the same, with ".0" when it is whole.</summary>
    public static string FloatText(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (text.Contains('E', StringComparison.Ordinal))
        {
            // Python writes 1e-05 and 1e+16 where .NET writes 1E-05 and 1E+16.
            text = text.Replace("E", "e", StringComparison.Ordinal);
            var mantissa = text[..text.IndexOf('e', StringComparison.Ordinal)];
            var exponent = int.Parse(text[(text.IndexOf('e', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
            return $"{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }

        return text.Contains('.', StringComparison.Ordinal) ? text : text + ".0";
    }

    /// <summary>
    /// JSON as Python's <c>json.dumps(value, ensure_ascii=False)</c> writes it (what chat templates' <c>tojson</c> gives):
    /// ", " and ": " between items, or with <paramref name="indent"/> one item a line.
    /// </summary>
    public static string ToJson(object? value, int? indent = null)
    {
        var text = new StringBuilder();
        WriteJson(text, value, indent, 0);
        return text.ToString();
    }

    private static void WriteJson(StringBuilder text, object? value, int? indent, int depth)
    {
        switch (value)
        {
            case null or Undefined:
                text.Append("null");
                break;
            case bool b:
                text.Append(b ? "true" : "false");
                break;
            case long l:
                text.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                text.Append(double.IsFinite(d) ? FloatText(d) : double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                break;
            case string s:
                WriteJsonString(text, s);
                break;
            case List<object?> list:
                WriteJsonItems(text, '[', ']', list, indent, depth, (item, inner) => WriteJson(text, item, indent, inner));
                break;
            case Dictionary<string, object?> map:
                WriteJsonItems(text, '{', '}', [.. map], indent, depth, (pair, inner) =>
                {
                    WriteJsonString(text, pair.Key);
                    text.Append(": ");
                    WriteJson(text, pair.Value, indent, inner);
                });
                break;
            default:
                throw new TemplateException($"{TypeName(value)} cannot be written as JSON");
        }
    }

    private static void WriteJsonItems<T>(StringBuilder text, char open, char close, List<T> items, int? indent, int depth, Action<T, int> write)
    {
        text.Append(open);
        if (items.Count == 0)
        {
            text.Append(close);
            return;
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (indent is { } width)
            {
                text.Append(i == 0 ? "\n" : ",\n").Append(' ', width * (depth + 1));
            }
            else if (i > 0)
            {
                text.Append(", ");
            }

            write(items[i], depth + 1);
        }

        if (indent is { } last)
        {
            text.Append('\n').Append(' ', last * depth);
        }

        text.Append(close);
    }

    private static void WriteJsonString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case < ' ': text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: text.Append(c); break;
            }
        }

        text.Append('"');
    }

    public static string TypeName(object? value) => value switch
    {
        null => "None",
        Undefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        Dictionary<string, object?> => "dict",
        _ => "function",
    };

    /// <summary>A .NET value (parsed JSON, records of the API) as a template value.</summary>
    public static object? From(object? value) => value switch
    {
        null or bool or long or double or string or Undefined or TemplateFunction or Macro => value,
        int i => (long)i,
        float f => (double)f,
        System.Text.Json.JsonElement json => FromJson(json),
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(p => p.Key, p => From(p.Value), StringComparer.Ordinal),
        System.Collections.IEnumerable items => items.Cast<object?>().Select(From).ToList(),
        _ => throw new ArgumentException($"a {value.GetType().Name} is no template value", nameof(value)),
    };

    private static object? FromJson(System.Text.Json.JsonElement json) => json.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => json.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal),
        System.Text.Json.JsonValueKind.Array => json.EnumerateArray().Select(FromJson).ToList(),
        System.Text.Json.JsonValueKind.String => json.GetString(),
        System.Text.Json.JsonValueKind.Number => json.TryGetInt64(out var whole) ? whole : json.GetDouble(),
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        _ => null,
    };
}
