using System.Text.Json;

namespace Turbine.Llm.Constraints;

/// <summary>What a JSON value may be, compiled from a JSON schema (or "any object" for <c>json_object</c>).</summary>
internal abstract record JsonShape
{
    /// <summary>Any JSON value.</summary>
    public static JsonShape Any { get; } = new AnyShape();
}

internal sealed record AnyShape : JsonShape;

/// <summary>An object: the listed properties in their order (optional ones may be left out), or any keys when <see cref="Open"/>.</summary>
internal sealed record ObjectShape(IReadOnlyList<PropertyShape> Properties, bool Open) : JsonShape;

internal sealed record PropertyShape(string Name, JsonShape Shape, bool Required);

internal sealed record ArrayShape(JsonShape Items, int MinItems, int MaxItems) : JsonShape;

/// <summary>A string, one of <see cref="Values"/> when given.</summary>
internal sealed record StringShape(IReadOnlyList<string>? Values) : JsonShape;

internal sealed record NumberShape(bool Integer) : JsonShape;

/// <summary>One of some exact JSON texts: true, false, null, or an enum/const of numbers and literals.</summary>
internal sealed record LiteralShape(IReadOnlyList<string> Texts) : JsonShape;

/// <summary>One of several shapes, told apart by the value's first character.</summary>
internal sealed record UnionShape(IReadOnlyList<JsonShape> Options) : JsonShape;

/// <summary>
/// Compiles the JSON schemas structured outputs use into shapes: <c>type</c> (one or a list), <c>properties</c> with
/// <c>required</c>, <c>items</c> with <c>minItems</c>/<c>maxItems</c>, <c>enum</c>, <c>const</c>, <c>anyOf</c>/<c>oneOf</c>,
/// and local <c>$ref</c>s into <c>$defs</c>/<c>definitions</c> (not recursive). What it cannot enforce is refused with
/// the keyword, so a schema is never silently loosened.
/// </summary>
internal static class JsonSchemaCompiler
{
    private const int MaxDepth = 32;

    public static JsonShape Compile(JsonElement schema) => Compile(schema, schema, 0);

    private static JsonShape Compile(JsonElement node, JsonElement root, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new JsonSchemaException($"the schema nests deeper than {MaxDepth} levels (recursive $refs are not supported)");
        }

        if (node.ValueKind == JsonValueKind.True)
        {
            return JsonShape.Any;
        }

        if (node.ValueKind != JsonValueKind.Object)
        {
            throw new JsonSchemaException("a schema must be an object (or true)");
        }

        if (node.TryGetProperty("$ref", out var reference))
        {
            return Compile(Resolve(reference.GetString() ?? string.Empty, root), root, depth + 1);
        }

        if (node.TryGetProperty("const", out var constant))
        {
            return Literal([constant]);
        }

        if (node.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                throw new JsonSchemaException("'enum' must be a non-empty array");
            }

            return Literal([.. values.EnumerateArray()]);
        }

        foreach (var keyword in (string[])["anyOf", "oneOf"])
        {
            if (node.TryGetProperty(keyword, out var options))
            {
                return Union([.. options.EnumerateArray().Select(option => Compile(option, root, depth + 1))]);
            }
        }

        if (!node.TryGetProperty("type", out var type))
        {
            return node.TryGetProperty("properties", out _) ? Object(node, root, depth) : JsonShape.Any;
        }

        if (type.ValueKind == JsonValueKind.Array)
        {
            return Union([.. type.EnumerateArray().Select(t => Typed(t.GetString(), node, root, depth))]);
        }

        return Typed(type.GetString(), node, root, depth);
    }

    private static JsonShape Typed(string? type, JsonElement node, JsonElement root, int depth) => type switch
    {
        "object" => Object(node, root, depth),
        "array" => new ArrayShape(
            node.TryGetProperty("items", out var items) ? Compile(items, root, depth + 1) : JsonShape.Any,
            node.TryGetProperty("minItems", out var min) && min.TryGetInt32(out var least) ? least : 0,
            node.TryGetProperty("maxItems", out var max) && max.TryGetInt32(out var most) ? most : int.MaxValue),
        "string" => new StringShape(null),
        "number" => new NumberShape(Integer: false),
        "integer" => new NumberShape(Integer: true),
        "boolean" => new LiteralShape(["true", "false"]),
        "null" => new LiteralShape(["null"]),
        _ => throw new JsonSchemaException($"'type' '{ClientText.Quote(type ?? "(none)")}' is not a JSON schema type"),
    };

    private static ObjectShape Object(JsonElement node, JsonElement root, int depth)
    {
        if (!node.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object || !properties.EnumerateObject().Any())
        {
            return new ObjectShape([], Open: true);
        }

        var required = node.TryGetProperty("required", out var names) && names.ValueKind == JsonValueKind.Array
            ? names.EnumerateArray().Select(n => n.GetString()).ToHashSet(StringComparer.Ordinal)
            : [];
        return new ObjectShape(
            [.. properties.EnumerateObject().Select(p => new PropertyShape(p.Name, Compile(p.Value, root, depth + 1), required.Contains(p.Name)))],
            Open: false);
    }

    private static JsonShape Union(List<JsonShape> options)
    {
        var flat = options.SelectMany(o => o is UnionShape u ? u.Options : [o]).ToList();
        var starts = flat.Select(StartKind).ToList();
        if (starts.Distinct().Count() != starts.Count && !flat.All(o => o is LiteralShape))
        {
            throw new JsonSchemaException("'anyOf' options must start differently (an object, an array, a string, a number, a literal), so the output can follow one");
        }

        return flat.All(o => o is LiteralShape) ? new LiteralShape([.. flat.SelectMany(o => ((LiteralShape)o).Texts)]) : new UnionShape(flat);
    }

    private static string StartKind(JsonShape shape) => shape switch
    {
        ObjectShape => "object",
        ArrayShape => "array",
        StringShape => "string",
        NumberShape => "number",
        LiteralShape => "literal",
        _ => "any",
    };

    /// <summary>An enum or const: strings become a string shape of those values, anything else exact JSON texts.</summary>
    private static JsonShape Literal(List<JsonElement> values)
    {
        if (values.All(v => v.ValueKind == JsonValueKind.String))
        {
            return new StringShape([.. values.Select(v => v.GetString()!)]);
        }

        if (values.Any(v => v.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.String))
        {
            throw new JsonSchemaException("'enum' and 'const' may hold strings, or numbers, booleans and null, not a mix or containers");
        }

        return new LiteralShape([.. values.Select(v => v.GetRawText())]);
    }

    private static JsonElement Resolve(string reference, JsonElement root)
    {
        foreach (var prefix in (string[])["#/$defs/", "#/definitions/"])
        {
            if (reference.StartsWith(prefix, StringComparison.Ordinal) && root.TryGetProperty(prefix[2..^1], out var definitions)
                && definitions.TryGetProperty(reference[prefix.Length..], out var target))
            {
                return target;
            }
        }

        throw new JsonSchemaException($"'$ref' '{ClientText.Quote(reference)}' does not name a definition of this schema");
    }
}

/// <summary>A JSON schema that cannot be enforced (or is not a schema), with why.</summary>
public sealed class JsonSchemaException : Exception
{
    public JsonSchemaException(string message)
        : base(message)
    {
    }

    public JsonSchemaException()
    {
    }

    public JsonSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
