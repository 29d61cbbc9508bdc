using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Turbine.Kubernetes.Cluster;

/// <summary>
/// Manifests between YAML and JSON objects, as kubectl reads them: plain scalars that read as numbers, booleans or
/// null are those (YAML 1.2's core schema), quoted ones stay strings.
/// </summary>
public static class ManifestYaml
{
    /// <summary>Values in one text at most: aliases may repeat a node, and a few lines of them could expand past memory.</summary>
    public const int MaxValues = 100_000;

    /// <summary>Nesting at most; real manifests stay far below.</summary>
    public const int MaxDepth = 64;

    /// <summary>Every non-empty document of a multi-document YAML text; <see cref="YamlException"/> or <see cref="FormatException"/> when it is not manifests.</summary>
    public static IReadOnlyList<JsonObject> Read(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var documents = new List<JsonObject>();
        var budget = new ValueBudget();
        foreach (var document in stream.Documents)
        {
            switch (Convert(document.RootNode, budget, depth: 0))
            {
                case JsonObject item:
                    documents.Add(item);
                    break;
                case null:
                    break;
                default:
                    throw new FormatException($"a manifest must be a mapping (line {document.RootNode.Start.Line})");
            }
        }

        return documents;
    }

    /// <summary>The objects as one multi-document YAML text; strings that would read as other scalars are quoted.</summary>
    public static string Write(IEnumerable<JsonObject> items)
    {
        var serializer = new SerializerBuilder().WithQuotingNecessaryStrings().Build();
        var text = new StringBuilder();
        foreach (var item in items)
        {
            text.Append("---\n").Append(serializer.Serialize(Plain(item)));
        }

        return text.ToString();
    }

    private static object? Plain(JsonNode? node) => node switch
    {
        JsonObject item => item.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => Plain(p.Value)), // null: absent
        JsonArray items => items.Select(Plain).ToList(),
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        JsonValue value when KubeObject.Integer(value) is { } whole => whole,
        JsonValue value => value.GetValue<double>(),
        _ => null,
    };

    private static JsonNode? Convert(YamlNode node, ValueBudget budget, int depth)
    {
        if (++budget.Values > MaxValues || depth > MaxDepth)
        {
            throw new FormatException($"the YAML holds more than {MaxValues} values or nests deeper than {MaxDepth} (line {node.Start.Line})");
        }

        return node switch
        {
            YamlMappingNode mapping => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(
                (c.Key as YamlScalarNode)?.Value ?? throw new FormatException($"a mapping key must be a scalar (line {c.Key.Start.Line})"),
                Convert(c.Value, budget, depth + 1)))),
            YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(c => Convert(c, budget, depth + 1))]),
            YamlScalarNode scalar => Scalar(scalar),
            _ => throw new FormatException($"unsupported YAML node at line {node.Start.Line}"),
        };
    }

    private sealed class ValueBudget
    {
        public int Values;
    }

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? string.Empty;
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        return value switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
            _ when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && !double.IsInfinity(number) => JsonValue.Create(number),
            _ => JsonValue.Create(value),
        };
    }
}
