using System.Text.Json;
using Turbine.Llm.Constraints;

namespace Turbine.Llm.Tests;

/// <summary>The JSON shapes structured outputs are held to, fed character by character as the token mask feeds them.</summary>
public sealed class JsonConstraintTests
{
    private const string Schema = """
        {
          "type": "object",
          "properties": {
            "name": { "type": "string" },
            "color": { "enum": ["red", "green"] },
            "count": { "type": "integer" },
            "score": { "type": ["number", "null"] },
            "tags": { "type": "array", "items": { "$ref": "#/$defs/tag" }, "maxItems": 2 },
            "ok": { "type": "boolean" }
          },
          "required": ["color", "count", "ok"],
          "$defs": { "tag": { "const": "a" } }
        }
        """;

    [Theory]
    [InlineData("""{"color":"red","count":3,"ok":true}""")]
    [InlineData("""{"name":"x \"q\" \u00e9","color":"green","count":-10,"score":1.5e-3,"tags":["a","a"],"ok":false}""")]
    [InlineData("""{"color":"red","count":0,"score":null,"tags":[],"ok":true}""")]
    public void Texts_of_the_schema_are_accepted_and_complete(string text)
    {
        var state = TokenTrie.Feed(Start(Schema), text);
        Assert.NotNull(state);
        Assert.True(state.IsComplete);
        Assert.Null(state.Advance('x')); // nothing may follow a complete text
    }

    [Theory]
    [InlineData("""{"count":3""", "a property out of order / a required one skipped")]
    [InlineData("""{"color":"blue""", "a value outside the enum")]
    [InlineData("""{"color":"red","count":3.5""", "a fraction for an integer")]
    [InlineData("""{"color":"red","count":01""", "a leading zero")]
    [InlineData("""{"color":"red","count":3,"ok":true,"extra":1""", "a property the schema does not name")]
    [InlineData("""{"color":"red","count":3}""", "closing before a required property")]
    [InlineData("""{"color":"red","count":3,"tags":["a","a","a"]""", "more items than maxItems")]
    [InlineData("""{ "color":"red" """, "whitespace outside strings")]
    [InlineData("{\"name\":\"a\nb\"", "a raw control character in a string")]
    [InlineData("""{"color":"red","count":1234567890123456789012345""", "a number past 24 characters")]
    public void Texts_outside_the_schema_are_refused_at_the_first_wrong_character(string text, string because)
    {
        Assert.True(TokenTrie.Feed(Start(Schema), text) is null, because);
    }

    [Fact]
    public void Json_object_mode_takes_any_object_and_nothing_else()
    {
        var open = new ValueFrame(new ObjectShape([], Open: true), null);
        Assert.True(TokenTrie.Feed(open, """{"a":[1,{"b":null}],"c":"d","e":true}""")!.IsComplete);
        Assert.Null(TokenTrie.Feed(open, "[1]"));
        Assert.Null(TokenTrie.Feed(open, "\"x\""));
        Assert.False(TokenTrie.Feed(open, """{"a":1""")!.IsComplete);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"anyOf":[{"type":"object"},{"type":"object","properties":{"x":{"type":"string"}}}]}}}""", "anyOf")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}""", "$ref")]
    [InlineData("""{"type":"thing"}""", "not a JSON schema type")]
    [InlineData("""{"enum":[]}""", "non-empty")]
    [InlineData("""{"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}""", "recursive")]
    public void Schemas_that_cannot_be_enforced_are_refused_with_the_keyword(string schema, string expected)
    {
        var error = Assert.Throws<JsonSchemaException>(() => JsonConstraint.Check(JsonDocument.Parse(schema).RootElement));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<tool_call>\n", "arguments", "\n</tool_call>", "<tool_call>\n{\"name\":\"f\",\"arguments\":{\"a\":1}}\n</tool_call>")]
    [InlineData("", "parameters", "", "{\"name\":\"g\",\"parameters\":{}}")]
    [InlineData("[TOOL_CALLS][", "arguments", "]", "[TOOL_CALLS][{\"name\":\"f\",\"arguments\":{\"b\":[true]}}]")]
    public void A_forced_call_is_the_formats_text_around_one_call_object(string prefix, string key, string suffix, string text)
    {
        var call = new ObjectShape([new PropertyShape("name", new StringShape(["f", "g"]), true), new PropertyShape(key, new ObjectShape([], Open: true), true)], Open: false);
        Frame Value() => new ValueFrame(call, new SuffixFrame(suffix));
        var start = prefix.Length == 0 ? Value() : new FixedTextFrame(prefix, 0, Value);

        Assert.True(TokenTrie.Feed(start, text)!.IsComplete);
        Assert.Null(TokenTrie.Feed(start, text.Replace("\"f\"", "\"h\"", StringComparison.Ordinal).Replace("\"g\"", "\"h\"", StringComparison.Ordinal)));
        Assert.Null(TokenTrie.Feed(start, "Sure! " + text));
    }

    private static ValueFrame Start(string schema) => new(JsonSchemaCompiler.Compile(JsonDocument.Parse(schema).RootElement), null);
}
