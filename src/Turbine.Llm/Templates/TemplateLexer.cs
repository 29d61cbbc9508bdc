using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Turbine.Llm.Templates;

internal enum TokenKind
{
    Text,
    OpenOutput,
    CloseOutput,
    OpenStatement,
    CloseStatement,
    Name,
    String,
    Number,
    Symbol,
}

internal readonly record struct TemplateToken(TokenKind Kind, string Text, object? Value = null);

/// <summary>
/// Splits a template into text and tags, with the whitespace rules chat templates are written for: Hugging Face renders
/// them with <c>trim_blocks</c> and <c>lstrip_blocks</c> on (the newline after a block tag is dropped, and spaces before
/// one at a line's start), <c>-</c> inside a tag strips the whitespace on its side, comments go, and one trailing
/// newline of the template is dropped.
/// </summary>
internal static partial class TemplateLexer
{
    private static readonly string[] Symbols = ["**", "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "="];

    public static List<TemplateToken> Tokenize(string template)
    {
        var source = Prepare(template);
        var tokens = new List<TemplateToken>();
        var position = 0;
        while (position < source.Length)
        {
            var open = NextTag(source, position);
            if (open < 0)
            {
                tokens.Add(new TemplateToken(TokenKind.Text, source[position..]));
                break;
            }

            if (open > position)
            {
                tokens.Add(new TemplateToken(TokenKind.Text, source[position..open]));
            }

            var output = source[open + 1] == '{';
            tokens.Add(new TemplateToken(output ? TokenKind.OpenOutput : TokenKind.OpenStatement, output ? "{{" : "{%"));
            position = LexTag(source, open + 2, output ? "}}" : "%}", tokens);
            tokens.Add(new TemplateToken(output ? TokenKind.CloseOutput : TokenKind.CloseStatement, output ? "}}" : "%}"));
        }

        return tokens;
    }

    /// <summary>The template with comments gone and the whitespace rules applied, so tags need no more care.</summary>
    private static string Prepare(string template)
    {
        var text = template.EndsWith('\n') ? template[..^1] : template;
        text = Comment().Replace(text, "{##}");
        text = LeadingBlankBeforeBlock().Replace(text, "$1");
        text = NewlineAfterBlock().Replace(text, "$1");
        text = text.Replace("{##}", string.Empty, StringComparison.Ordinal);
        text = StripAfter().Replace(text, "$1}");
        return StripBefore().Replace(text, "{$1");
    }

    private static int NextTag(string source, int from)
    {
        for (var i = source.IndexOf('{', from); i >= 0 && i < source.Length - 1; i = source.IndexOf('{', i + 1))
        {
            if (source[i + 1] is '{' or '%')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Lexes the inside of a tag up to its <paramref name="close"/>; where the text after it starts.</summary>
    private static int LexTag(string source, int position, string close, List<TemplateToken> tokens)
    {
        var depth = 0; // braces of dict literals, so "}}" inside one does not close an output tag
        while (true)
        {
            while (position < source.Length && char.IsWhiteSpace(source[position]))
            {
                position++;
            }

            if (position >= source.Length)
            {
                throw new TemplateException($"a tag is not closed with '{close}'");
            }

            if (depth == 0 && string.CompareOrdinal(source, position, close, 0, 2) == 0)
            {
                return position + 2;
            }

            var c = source[position];
            if (c is '"' or '\'')
            {
                position = LexString(source, position, tokens);
            }
            else if (char.IsAsciiDigit(c))
            {
                var start = position;
                while (position < source.Length && (char.IsAsciiDigit(source[position]) || (source[position] == '.' && position + 1 < source.Length && char.IsAsciiDigit(source[position + 1]))))
                {
                    position++;
                }

                var literal = source[start..position];
                tokens.Add(new TemplateToken(TokenKind.Number, literal, literal.Contains('.', StringComparison.Ordinal)
                    ? (object)double.Parse(literal, CultureInfo.InvariantCulture)
                    : long.Parse(literal, CultureInfo.InvariantCulture)));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = position;
                while (position < source.Length && (char.IsLetterOrDigit(source[position]) || source[position] == '_'))
                {
                    position++;
                }

                tokens.Add(new TemplateToken(TokenKind.Name, source[start..position]));
            }
            else
            {
                var symbol = Array.Find(Symbols, s => string.CompareOrdinal(source, position, s, 0, s.Length) == 0)
                    ?? throw new TemplateException($"unexpected character '{c}' in a tag");
                depth += symbol == "{" ? 1 : symbol == "}" ? -1 : 0;
                tokens.Add(new TemplateToken(TokenKind.Symbol, symbol));
                position += symbol.Length;
            }
        }
    }

    private static int LexString(string source, int position, List<TemplateToken> tokens)
    {
        var quote = source[position++];
        var text = new StringBuilder();
        while (position < source.Length && source[position] != quote)
        {
            var c = source[position++];
            if (c != '\\' || position >= source.Length)
            {
                text.Append(c);
                continue;
            }

            var escaped = source[position++];
            text.Append(escaped switch
            {
                'n' => "\n",
                't' => "\t",
                'r' => "\r",
                'b' => "\b",
                'f' => "\f",
                '\\' or '\'' or '"' => escaped.ToString(),
                _ => "\\" + escaped, // Python keeps an unknown escape as written
            });
        }

        if (position >= source.Length)
        {
            throw new TemplateException("a string in a tag is not closed");
        }

        tokens.Add(new TemplateToken(TokenKind.String, text.ToString(), text.ToString()));
        return position + 1;
    }

    [GeneratedRegex(@"\{#.*?#\}", RegexOptions.Singleline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Comment();

    [GeneratedRegex(@"^[ \t]*(\{[#%])", RegexOptions.Multiline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex LeadingBlankBeforeBlock();

    [GeneratedRegex(@"([#%]\})\n", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex NewlineAfterBlock();

    [GeneratedRegex(@"-([%}])\}\s*", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex StripAfter();

    [GeneratedRegex(@"\s*\{([%{])-", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex StripBefore();
}

/// <summary>A template that cannot be parsed or rendered (including <c>raise_exception</c> in it), with why.</summary>
public sealed class TemplateException : Exception
{
    public TemplateException(string message)
        : base(message)
    {
    }

    public TemplateException()
    {
    }

    public TemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
