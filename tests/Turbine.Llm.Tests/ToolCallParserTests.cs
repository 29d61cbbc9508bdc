using Turbine.Llm.Tools;

namespace Turbine.Llm.Tests;

public sealed class ToolCallParserTests
{
    [Fact]
    public void Hermes_calls_are_read_with_the_text_before_them()
    {
        var parser = ToolCallParser.For("hermes", null)!;
        var (content, calls) = parser.Parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");

        Assert.Equal("Let me check.", content);
        Assert.Equal([new ToolCall("get_weather", """{"city": "Paris"}"""), new ToolCall("get_time", "{}")], calls);
    }

    [Theory]
    [InlineData("""{"name": "get_weather", "parameters": {"city": "Paris"}}""")]
    [InlineData("""<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}""")]
    [InlineData("""  {"name": "get_weather", "arguments": {"city": "Paris"}}""")]
    public void Llama3_json_calls_are_the_whole_answer(string answer)
    {
        var (content, calls) = ToolCallParser.For("llama3_json", null)!.Parse(answer);
        Assert.Null(content);
        Assert.Equal("get_weather", Assert.Single(calls).Name);
        Assert.Contains("Paris", calls[0].Arguments, StringComparison.Ordinal);
    }

    [Fact]
    public void Mistral_calls_are_an_array_after_the_marker()
    {
        var (content, calls) = ToolCallParser.For("mistral", null)!.Parse("""[TOOL_CALLS] [{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": "{\"y\": 2}"}]""");
        Assert.Null(content);
        Assert.Equal([new ToolCall("a", """{"x": 1}"""), new ToolCall("b", """{"y": 2}""")], calls);
    }

    [Theory]
    [InlineData("hermes", "No tools needed: the answer is 4.")]
    [InlineData("hermes", "<tool_call>\n{\"name\": \"broken\"\n</tool_call>")]
    [InlineData("llama3_json", "{\"not\": \"a call\"}")]
    [InlineData("llama3_json", "The weather is fine.")]
    [InlineData("mistral", "[TOOL_CALLS] not json")]
    public void Text_that_is_not_a_well_formed_call_stays_content(string format, string answer)
    {
        var (content, calls) = ToolCallParser.For(format, null)!.Parse(answer);
        Assert.Equal(answer, content);
        Assert.Empty(calls);
    }

    [Theory]
    [InlineData("<tool_call>", "hermes")]
    [InlineData("[TOOL_CALLS]", "mistral")]
    [InlineData("<|python_tag|>", "llama3_json")]
    [InlineData("no markers here", null)]
    public void The_format_follows_the_chat_templates_markers(string template, string? expected)
    {
        Assert.Equal(expected, ToolCallParser.For("auto", "{{ x }}" + template)?.Name);
    }

    [Fact]
    public void A_stream_holds_back_only_what_may_start_a_call()
    {
        var parser = ToolCallParser.For("hermes", null)!;
        Assert.Equal(-1, parser.StartOf("Hello <tool"));
        Assert.Equal("Hello ".Length, parser.MayStartAt("Hello <tool"));
        Assert.Equal("Hello world".Length, parser.MayStartAt("Hello world"));
        Assert.Equal(6, parser.StartOf("Hello <tool_call>{"));
    }
}
