using System.Globalization;
using System.Text;

namespace Turbine.Llm.Templates;

/// <summary>
/// What templates call on values: operators with Python's meaning, attributes and subscripts (mapping keys, then the
/// methods of str and dict chat templates use), slices, and the globals, filters and tests of Jinja that chat templates
/// use. Anything else is an error naming it, never a silent empty string.
/// </summary>
internal static class TemplateBuiltins
{
    private static readonly Dictionary<string, object?> Globals = new(StringComparer.Ordinal)
    {
        ["range"] = (TemplateFunction)((arguments, _) => Range(arguments)),
        ["namespace"] = (TemplateFunction)((arguments, keywords) =>
        {
            var space = new Namespace();
            if (arguments is [Dictionary<string, object?> initial])
            {
                foreach (var (key, value) in initial)
                {
                    space[key] = value;
                }
            }

            foreach (var (key, value) in keywords)
            {
                space[key] = value;
            }

            return space;
        }),
        ["dict"] = (TemplateFunction)((_, keywords) => keywords.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)),
        ["raise_exception"] = (TemplateFunction)((arguments, _) => throw new TemplateException(arguments is [var message, ..] ? TemplateValues.ToText(message) : "the template raised an exception")),
    };

    public static object? Global(string name) => Globals.GetValueOrDefault(name);

    public static object? Attribute(object? target, string name)
    {
        switch (target)
        {
            case Dictionary<string, object?> map when map.TryGetValue(name, out var value):
                return value;
            case Dictionary<string, object?> map:
                return (object?)MappingMethod(map, name) ?? Undefined.Value;
            case string text:
                return (object?)StringMethod(text, name) ?? Undefined.Value;
            default:
                return Undefined.Value;
        }
    }

    public static object? Item(object? target, object? key) => (target, key) switch
    {
        (Dictionary<string, object?> map, _) => map.TryGetValue(TemplateValues.ToText(key), out var value) ? value : Undefined.Value,
        (List<object?> list, long index) => Index(list.Count, index) is { } at ? list[at] : Undefined.Value,
        (string text, long index) => Index(text.Length, index) is { } at ? text[at].ToString() : Undefined.Value,
        (_, string name) => Attribute(target, name),
        _ => Undefined.Value,
    };

    private static int? Index(int count, long index)
    {
        var at = index < 0 ? count + index : index;
        return at >= 0 && at < count ? (int)at : null;
    }

    /// <summary>Python's slice: bounds clamped, negative ones from the end, any non-zero step.</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        var increment = step is null ? 1 : (long)step;
        if (increment == 0)
        {
            throw new TemplateException("a slice step cannot be zero");
        }

        var items = target switch
        {
            List<object?> list => list,
            string text => text.Select(c => (object?)c.ToString()).ToList(),
            _ => throw new TemplateException($"cannot slice {TemplateValues.TypeName(target)}"),
        };
        var count = items.Count;
        long Clamp(object? bound, long fallback, long low, long high)
        {
            if (bound is null)
            {
                return fallback;
            }

            var value = (long)bound;
            value = value < 0 ? value + count : value;
            return Math.Clamp(value, low, high);
        }

        var result = new List<object?>();
        if (increment > 0)
        {
            for (var i = Clamp(start, 0, 0, count); i < Clamp(stop, count, 0, count); i += increment)
            {
                result.Add(items[(int)i]);
            }
        }
        else
        {
            for (var i = Clamp(start, count - 1, -1, count - 1); i > Clamp(stop, -1, -1, count - 1); i += increment)
            {
                result.Add(items[(int)i]);
            }
        }

        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    public static IEnumerable<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        Dictionary<string, object?> map => map.Keys,
        string text => text.Select(c => (object?)c.ToString()),
        Undefined => [],
        _ => throw new TemplateException($"cannot iterate over {TemplateValues.TypeName(value)}"),
    };

    public static object? Operate(string op, object? left, object? right)
    {
        switch (op)
        {
            case "==": return TemplateValues.Equals(left, right);
            case "!=": return !TemplateValues.Equals(left, right);
            case "<": return TemplateValues.Compare(left, right) < 0;
            case ">": return TemplateValues.Compare(left, right) > 0;
            case "<=": return TemplateValues.Compare(left, right) <= 0;
            case ">=": return TemplateValues.Compare(left, right) >= 0;
            case "in": return Contains(right, left);
            case "not in": return !Contains(right, left);
            case "~": return TemplateValues.ToText(left) + TemplateValues.ToText(right);
        }

        return (op, left, right) switch
        {
            ("+", string a, string b) => a + b,
            ("+", List<object?> a, List<object?> b) => a.Concat(b).ToList(),
            ("*", string a, long n) => string.Concat(Enumerable.Repeat(a, (int)Math.Max(0, n))),
            ("*", List<object?> a, long n) => Enumerable.Repeat(a, (int)Math.Max(0, n)).SelectMany(x => x).ToList(),
            ("+", long a, long b) => a + b,
            ("-", long a, long b) => a - b,
            ("*", long a, long b) => a * b,
            ("//", long a, long b) when b != 0 => (long)Math.Floor((double)a / b),
            ("%", long a, long b) when b != 0 => ((a % b) + b) % b,
            ("**", long a, long b) when b >= 0 => (long)Math.Pow(a, b),
            ("+", _, _) when TemplateValues.IsNumber(left) && TemplateValues.IsNumber(right) => TemplateValues.ToDouble(left) + TemplateValues.ToDouble(right),
            ("-", _, _) when TemplateValues.IsNumber(left) && TemplateValues.IsNumber(right) => TemplateValues.ToDouble(left) - TemplateValues.ToDouble(right),
            ("*", _, _) when TemplateValues.IsNumber(left) && TemplateValues.IsNumber(right) => TemplateValues.ToDouble(left) * TemplateValues.ToDouble(right),
            ("/", _, _) when TemplateValues.IsNumber(left) && TemplateValues.IsNumber(right) && TemplateValues.ToDouble(right) != 0 => TemplateValues.ToDouble(left) / TemplateValues.ToDouble(right),
            ("//", _, _) when TemplateValues.IsNumber(left) && TemplateValues.IsNumber(right) && TemplateValues.ToDouble(right) != 0 => Math.Floor(TemplateValues.ToDouble(left) / TemplateValues.ToDouble(right)),
            ("**", _, _) when TemplateValues.IsNumber(left) && TemplateValues.IsNumber(right) => Math.Pow(TemplateValues.ToDouble(left), TemplateValues.ToDouble(right)),
            ("%", string format, _) => PercentFormat(format, right),
            _ => throw new TemplateException($"unsupported operand types for {op}: {TemplateValues.TypeName(left)} and {TemplateValues.TypeName(right)}"),
        };
    }

    private static bool Contains(object? container, object? item) => container switch
    {
        string text => item is string part ? text.Contains(part, StringComparison.Ordinal) : throw new TemplateException("'in <string>' needs a string"),
        List<object?> list => list.Any(element => TemplateValues.Equals(element, item)),
        Dictionary<string, object?> map => item is string key && map.ContainsKey(key),
        Undefined => false,
        _ => throw new TemplateException($"'in' needs a string, list or mapping, not {TemplateValues.TypeName(container)}"),
    };

    private static TemplateFunction? MappingMethod(Dictionary<string, object?> map, string name) => name switch
    {
        "items" => (_, _) => map.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList(),
        "keys" => (_, _) => map.Keys.Cast<object?>().ToList(),
        "values" => (_, _) => map.Values.ToList(),
        "get" => (arguments, _) => arguments is [var key, ..] && map.TryGetValue(TemplateValues.ToText(key), out var value) ? value : arguments.Count > 1 ? arguments[1] : null,
        _ => null,
    };

    private static TemplateFunction? StringMethod(string text, string name) => name switch
    {
        "startswith" => (arguments, _) => Prefixes(arguments).Any(p => text.StartsWith(p, StringComparison.Ordinal)),
        "endswith" => (arguments, _) => Prefixes(arguments).Any(p => text.EndsWith(p, StringComparison.Ordinal)),
        "strip" => (arguments, _) => Strip(text, arguments, start: true, end: true),
        "lstrip" => (arguments, _) => Strip(text, arguments, start: true, end: false),
        "rstrip" => (arguments, _) => Strip(text, arguments, start: false, end: true),
        "split" => (arguments, keywords) => Split(text, arguments.Count > 0 ? arguments[0] : keywords.GetValueOrDefault("sep"), arguments.Count > 1 ? arguments[1] : keywords.GetValueOrDefault("maxsplit")),
        "splitlines" => (_, _) => text.Split('\n').Select(l => (object?)l.TrimEnd('\r')).ToList(),
        "upper" => (_, _) => text.ToUpperInvariant(),
        "lower" => (_, _) => text.ToLowerInvariant(),
        "title" => (_, _) => Title(text),
        "capitalize" => (_, _) => Capitalize(text),
        "replace" => (arguments, _) => Replace(text, arguments),
        "find" => (arguments, _) => (long)text.IndexOf(TemplateValues.ToText(arguments[0]), StringComparison.Ordinal),
        "count" => (arguments, _) => (long)CountOf(text, TemplateValues.ToText(arguments[0])),
        "join" => (arguments, _) => string.Join(text, Iterate(arguments[0]).Select(TemplateValues.ToText)),
        "format" => (arguments, _) => BraceFormat(text, arguments),
        _ => null,
    };

    private static IEnumerable<string> Prefixes(IReadOnlyList<object?> arguments) =>
        arguments is [List<object?> several, ..] ? several.Select(TemplateValues.ToText) : [TemplateValues.ToText(arguments[0])];

    public static string Strip(string text, IReadOnlyList<object?> arguments, bool start, bool end)
    {
        var chars = arguments is [string set, ..] ? set.ToCharArray() : null;
        return (start, end) switch
        {
            (true, true) => chars is null ? text.Trim() : text.Trim(chars),
            (true, false) => chars is null ? text.TrimStart() : text.TrimStart(chars),
            _ => chars is null ? text.TrimEnd() : text.TrimEnd(chars),
        };
    }

    private static List<object?> Split(string text, object? separator, object? maxSplit)
    {
        var most = maxSplit is long m && m >= 0 ? (int)m + 1 : int.MaxValue;
        if (separator is null or Undefined)
        {
            return text.Split((char[]?)null, most, StringSplitOptions.RemoveEmptyEntries).Cast<object?>().ToList(); // Python's split(): runs of blanks, no empty parts
        }

        var by = TemplateValues.ToText(separator);
        if (by.Length == 0)
        {
            throw new TemplateException("empty separator");
        }

        return text.Split(by, most).Cast<object?>().ToList();
    }

    private static string Replace(string text, IReadOnlyList<object?> arguments)
    {
        var (old, replacement) = (TemplateValues.ToText(arguments[0]), TemplateValues.ToText(arguments[1]));
        if (arguments is not [_, _, long count, ..] || count < 0)
        {
            return old.Length == 0 ? text : text.Replace(old, replacement, StringComparison.Ordinal);
        }

        var result = new StringBuilder();
        var position = 0;
        for (var done = 0; done < count; done++)
        {
            var at = text.IndexOf(old, position, StringComparison.Ordinal);
            if (at < 0 || old.Length == 0)
            {
                break;
            }

            result.Append(text, position, at - position).Append(replacement);
            position = at + old.Length;
        }

        return result.Append(text, position, text.Length - position).ToString();
    }

    private static int CountOf(string text, string part)
    {
        if (part.Length == 0)
        {
            return text.Length + 1;
        }

        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    public static string Title(string text)
    {
        var result = new StringBuilder(text.Length);
        var previousIsLetter = false;
        foreach (var c in text)
        {
            result.Append(previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousIsLetter = char.IsLetter(c);
        }

        return result.ToString();
    }

    public static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..].ToLowerInvariant();

    /// <summary><c>"{} and {}".format(a, b)</c> with positional fields, the form templates use.</summary>
    private static string BraceFormat(string format, IReadOnlyList<object?> arguments)
    {
        var result = new StringBuilder();
        var next = 0;
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] == '{' && i + 1 < format.Length && format[i + 1] == '{')
            {
                result.Append('{');
                i++;
            }
            else if (format[i] == '}' && i + 1 < format.Length && format[i + 1] == '}')
            {
                result.Append('}');
                i++;
            }
            else if (format[i] == '{')
            {
                var close = format.IndexOf('}', i);
                var field = format[(i + 1)..close];
                var index = field.Length == 0 ? next++ : int.Parse(field, CultureInfo.InvariantCulture);
                result.Append(TemplateValues.ToText(arguments[index]));
                i = close;
            }
            else
            {
                result.Append(format[i]);
            }
        }

        return result.ToString();
    }

    /// <summary><c>"%s: %d" % (a, b)</c>, the printf form, for %s, %d and %%.</summary>
    private static string PercentFormat(string format, object? values)
    {
        var arguments = values as List<object?> ?? [values];
        var result = new StringBuilder();
        var next = 0;
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                result.Append(format[i]);
                continue;
            }

            var kind = format[++i];
            result.Append(kind switch
            {
                '%' => "%",
                's' or 'd' or 'i' => TemplateValues.ToText(kind == 's' ? arguments[next++] : (long)TemplateValues.ToDouble(arguments[next++])),
                _ => throw new TemplateException($"the format '%{kind}' is not supported"),
            });
        }

        return result.ToString();
    }

    private static List<object?> Range(IReadOnlyList<object?> arguments)
    {
        var values = arguments.Select(a => a is long l ? l : throw new TemplateException("range() takes integers")).ToArray();
        var (start, stop, step) = values.Length switch
        {
            1 => (0L, values[0], 1L),
            2 => (values[0], values[1], 1L),
            3 => (values[0], values[1], values[2]),
            _ => throw new TemplateException("range() takes 1 to 3 arguments"),
        };
        if (step == 0 || Math.Abs((stop - start) / step) > 100_000)
        {
            throw new TemplateException("range() is empty-stepped or longer than 100000");
        }

        var result = new List<object?>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            result.Add(i);
        }

        return result;
    }

    /// <summary><c>strftime_now(format)</c> on <paramref name="time"/>'s clock: Llama 3.1's templates print today's date.</summary>
    public static TemplateFunction StrftimeNow(TimeProvider time) =>
        (arguments, _) => Strftime(time.GetLocalNow().DateTime, arguments is [string format, ..] ? format : "%Y-%m-%d");

    /// <summary>A date in a strftime format, for the common fields.</summary>
    private static string Strftime(DateTime now, string format)
    {
        var result = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                result.Append(format[i]);
                continue;
            }

            result.Append(format[++i] switch
            {
                'd' => now.ToString("dd", CultureInfo.InvariantCulture),
                'm' => now.ToString("MM", CultureInfo.InvariantCulture),
                'Y' => now.ToString("yyyy", CultureInfo.InvariantCulture),
                'y' => now.ToString("yy", CultureInfo.InvariantCulture),
                'b' => now.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => now.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => now.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => now.ToString("dddd", CultureInfo.InvariantCulture),
                'H' => now.ToString("HH", CultureInfo.InvariantCulture),
                'M' => now.ToString("mm", CultureInfo.InvariantCulture),
                'S' => now.ToString("ss", CultureInfo.InvariantCulture),
                '%' => "%",
                var other => "%" + other,
            });
        }

        return result.ToString();
    }

    public static object? Filter(string name, object? value, IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> keywords, TemplateRenderer renderer)
    {
        object? Argument(int index, string keyword, object? fallback) =>
            index < arguments.Count ? arguments[index] : keywords.TryGetValue(keyword, out var given) ? given : fallback;

        return name switch
        {
            "length" or "count" => value switch
            {
                string s => (long)new StringInfo(s).LengthInTextElements,
                System.Collections.ICollection c => (long)c.Count,
                Undefined => 0L,
                _ => throw new TemplateException($"{TemplateValues.TypeName(value)} has no length"),
            },
            "trim" => Strip(TemplateValues.ToText(value), Argument(0, "chars", null) is string chars ? [chars] : [], start: true, end: true),
            "upper" => TemplateValues.ToText(value).ToUpperInvariant(),
            "lower" => TemplateValues.ToText(value).ToLowerInvariant(),
            "title" => Title(TemplateValues.ToText(value)),
            "capitalize" => Capitalize(TemplateValues.ToText(value)),
            "string" => TemplateValues.ToText(value),
            "safe" => value,
            "first" => Iterate(value).FirstOrDefault(Undefined.Value),
            "last" => value is List<object?> { Count: > 0 } list ? list[^1] : value is string { Length: > 0 } text ? text[^1].ToString() : Undefined.Value,
            "join" => string.Join(TemplateValues.ToText(Argument(0, "d", string.Empty)),
                Iterate(value).Select(item => TemplateValues.ToText(Argument(1, "attribute", null) is { } attribute and not Undefined ? Attribute(item, TemplateValues.ToText(attribute)) : item))),
            "default" or "d" => value is Undefined || (TemplateValues.IsTrue(Argument(1, "boolean", false)) && !TemplateValues.IsTrue(value)) ? Argument(0, "default_value", string.Empty) : value,
            "int" => value switch
            {
                long l => l,
                double d => (long)d,
                bool b => b ? 1L : 0L,
                string s when long.TryParse(s.Trim(), CultureInfo.InvariantCulture, out var parsed) => parsed,
                string s when double.TryParse(s.Trim(), CultureInfo.InvariantCulture, out var parsed) => (long)parsed,
                _ => Argument(0, "default", 0L),
            },
            "float" => value switch
            {
                long or double or bool => TemplateValues.ToDouble(value),
                string s when double.TryParse(s.Trim(), CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => Argument(0, "default", 0.0),
            },
            "abs" => value is long l ? Math.Abs(l) : (object)Math.Abs(TemplateValues.ToDouble(value)),
            "round" => Math.Round(TemplateValues.ToDouble(value), (int)(Argument(0, "precision", 0L) as long? ?? 0), MidpointRounding.ToEven),
            "list" => Iterate(value).ToList(),
            "reverse" => value is string text ? new string(text.Reverse().ToArray()) : Iterate(value).Reverse().ToList(),
            "unique" => Iterate(value).Aggregate(new List<object?>(), (seen, item) => { if (!seen.Any(s => TemplateValues.Equals(s, item))) { seen.Add(item); } return seen; }),
            "items" => value is Dictionary<string, object?> map ? map.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList() : throw new TemplateException("'items' needs a mapping"),
            "dictsort" => value is Dictionary<string, object?> sortable
                ? sortable.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList()
                : throw new TemplateException("'dictsort' needs a mapping"),
            "sort" => Sort(value, Argument(0, "reverse", false), Argument(2, "attribute", null)),
            "tojson" => TemplateValues.ToJson(value, Argument(0, "indent", null) as long? is { } indent ? (int)indent : null),
            "replace" => Replace(TemplateValues.ToText(value), [Argument(0, "old", string.Empty), Argument(1, "new", string.Empty), .. arguments.Skip(2)]),
            "indent" => Indent(TemplateValues.ToText(value), Argument(0, "width", 4L), TemplateValues.IsTrue(Argument(1, "first", false)), TemplateValues.IsTrue(Argument(2, "blank", false))),
            "wordcount" => (long)TemplateValues.ToText(value).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length,
            "sum" => Iterate(value).Aggregate(Argument(1, "start", 0L), (total, item) => Operate("+", total, Argument(0, "attribute", null) is string attribute ? Attribute(item, attribute) : item)),
            "min" => Iterate(value).Aggregate((a, b) => TemplateValues.Compare(a, b) <= 0 ? a : b),
            "max" => Iterate(value).Aggregate((a, b) => TemplateValues.Compare(a, b) >= 0 ? a : b),
            "map" => Iterate(value).Select(item => keywords.TryGetValue("attribute", out var attribute)
                ? Attribute(item, TemplateValues.ToText(attribute)) is Undefined && keywords.TryGetValue("default", out var fallback) ? fallback : Attribute(item, TemplateValues.ToText(attribute))
                : Filter(TemplateValues.ToText(arguments[0]), item, [.. arguments.Skip(1)], new Dictionary<string, object?>(), renderer)).ToList(),
            "select" or "reject" => Iterate(value).Where(item => (arguments.Count == 0 ? TemplateValues.IsTrue(item) : Test(TemplateValues.ToText(arguments[0]), item, [.. arguments.Skip(1)])) == (name == "select")).ToList(),
            "selectattr" or "rejectattr" => Iterate(value).Where(item =>
            {
                var attribute = Attribute(item, TemplateValues.ToText(arguments[0]));
                var passes = arguments.Count < 2 ? TemplateValues.IsTrue(attribute) : Test(TemplateValues.ToText(arguments[1]), attribute, [.. arguments.Skip(2)]);
                return passes == (name == "selectattr");
            }).ToList(),
            _ => throw new TemplateException($"the filter '{name}' is not supported"),
        };
    }

    private static List<object?> Sort(object? value, object? reverse, object? attribute)
    {
        var items = Iterate(value).ToList();
        object? Key(object? item) => attribute is string name ? Attribute(item, name) : item;
        items.Sort((a, b) => TemplateValues.Compare(Key(a), Key(b)));
        if (TemplateValues.IsTrue(reverse))
        {
            items.Reverse();
        }

        return items;
    }

    private static string Indent(string text, object? width, bool first, bool blank)
    {
        var pad = width is string prefix ? prefix : new string(' ', (int)(width as long? ?? 4));
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if ((i > 0 || first) && (blank || lines[i].Length > 0))
            {
                lines[i] = pad + lines[i];
            }
        }

        return string.Join('\n', lines);
    }

    public static bool Test(string name, object? value, IReadOnlyList<object?> arguments) => name switch
    {
        "defined" => value is not Undefined,
        "undefined" => value is Undefined,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is Dictionary<string, object?>,
        "iterable" => value is string or List<object?> or Dictionary<string, object?>,
        "sequence" => value is string or List<object?> or Dictionary<string, object?>,
        "callable" => value is TemplateFunction or Macro,
        "odd" => value is long l && l % 2 != 0,
        "even" => value is long e && e % 2 == 0,
        "divisibleby" => value is long n && arguments is [long d, ..] && d != 0 && n % d == 0,
        "equalto" or "eq" or "==" or "sameas" => TemplateValues.Equals(value, arguments[0]),
        "ne" or "!=" => !TemplateValues.Equals(value, arguments[0]),
        "lt" or "lessthan" => TemplateValues.Compare(value, arguments[0]) < 0,
        "gt" or "greaterthan" => TemplateValues.Compare(value, arguments[0]) > 0,
        "le" => TemplateValues.Compare(value, arguments[0]) <= 0,
        "ge" => TemplateValues.Compare(value, arguments[0]) >= 0,
        "in" => Contains(arguments[0], value),
        "lower" => value is string lower && string.Equals(lower, lower.ToLowerInvariant(), StringComparison.Ordinal),
        "upper" => value is string upper && string.Equals(upper, upper.ToUpperInvariant(), StringComparison.Ordinal),
        _ => throw new TemplateException($"the test '{name}' is not supported"),
    };
}
