using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.Tokenizers;
using Turbine.Core.Lifecycle;
using Turbine.Llm.Serving;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.IntegrationTests;

/// <summary>
/// The OpenAI API over a real server and a generated decoder served without configuration (an Optimum-layout
/// model.onnx beside GPT-2's tokenizer files): the bodies, the SSE framing, usage, errors, keys, and the KV cache
/// given back when a client leaves mid-stream.
/// </summary>
public sealed class OpenAiApiTests : IAsyncLifetime
{
    private const string Model = "gpt";
    private static readonly Tokenizer Gpt2 = TiktokenTokenizer.CreateForModel("gpt2");
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        GenerativeModelFolder.Write(Path.Combine(_server.Folder.Root, Model, "1"), new DecoderShape(Context: 256));
        _server.Folder.Add("mlp", Onnx.Tools.SampleModels.Mlp()); // not generative: absent from /v1/models, plain on generate
        GenerativeModelFolder.Write(Path.Combine(_server.Folder.Root, "templated", "1"), new DecoderShape(Layers: 1, Context: 256));
        const string Template = "{{ bos_token }}{% if tools %}<tools>{{ tools | tojson }}</tools>{% endif %}{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
            + "<{{ m.role }}>{{ m.content | trim }}{% for c in m.tool_calls or [] %}<call>{{ c.function.name }} {{ c.function.arguments.city }}</call>{% endfor %}</{{ m.role }}>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
        File.WriteAllText(
            Path.Combine(_server.Folder.Root, "templated", "config.json"),
            JsonSerializer.Serialize(new { backend = "llm", llm = new { chat_template = Template, tool_call_parser = "llama3_json" } }));
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task A_decoder_folder_without_configuration_serves_as_a_generative_model()
    {
        var config = await _server.GetJsonAsync($"v2/models/{Model}/config");
        Assert.Equal("llm", config.GetProperty("backend").GetString());
        Assert.Equal("text_input", config.GetProperty("input")[0].GetProperty("name").GetString()); // and Triton vLLM's optional inputs

        var models = await _server.GetJsonAsync("v1/models");
        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Equal([Model, "templated"], models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        var entry = models.GetProperty("data")[0];
        Assert.Equal("model", entry.GetProperty("object").GetString());
        Assert.True(entry.GetProperty("created").GetInt64() > 1_700_000_000);
    }

    [Fact]
    public async Task A_completion_reports_its_text_finish_and_usage_and_agrees_with_the_kserve_protocol()
    {
        const string prompt = "The capital of France is";
        var completion = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"{{prompt}}","max_tokens":6,"temperature":0}""");

        Assert.Equal("text_completion", completion.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", completion.GetProperty("id").GetString(), StringComparison.Ordinal);
        var choice = Assert.Single(completion.GetProperty("choices").EnumerateArray());
        var usage = completion.GetProperty("usage");
        Assert.Equal(Gpt2.CountTokens(prompt), usage.GetProperty("prompt_tokens").GetInt32());
        var finish = choice.GetProperty("finish_reason").GetString();
        Assert.True(finish == "length" ? usage.GetProperty("completion_tokens").GetInt32() == 6 : finish == "stop", $"{finish}: {usage}");
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        // Triton's LLM backends' shape on KServe v2: text_input in, text_output out, the prompt excluded on request.
        var infer = await PostJsonAsync($"v2/models/{Model}/infer", $$$"""
            {"inputs":[{"name":"text_input","datatype":"BYTES","shape":[1],"data":["{{{prompt}}}"]}],
             "parameters":{"max_tokens":6,"temperature":0,"exclude_input_in_output":true}}
            """);
        Assert.Equal(choice.GetProperty("text").GetString(), infer.GetProperty("outputs")[0].GetProperty("data")[0].GetString());
    }

    [Fact]
    public async Task A_streamed_chat_sends_framed_chunks_a_usage_chunk_and_done_with_the_text_of_the_whole_answer()
    {
        const string messages = """[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello."}]""";
        var whole = await PostJsonAsync("v1/chat/completions", $$"""{"model":"{{Model}}","messages":{{messages}},"max_tokens":12,"temperature":0}""");
        var message = whole.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("refusal").ValueKind);
        Assert.Equal("chat.completion", whole.GetProperty("object").GetString());

        using var response = await _server.SendAsync(HttpMethod.Post, "v1/chat/completions",
            $$$"""{"model":"{{{Model}}}","messages":{{{messages}}},"max_tokens":12,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var raw = await response.Content.ReadAsStringAsync();

        // Every event is one "data: " line and a blank line; the last is [DONE].
        var events = raw.Split("\n\n");
        Assert.Equal(string.Empty, events[^1]);
        Assert.All(events[..^1], e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.All(events[..^1], e => Assert.DoesNotContain('\n', e));
        Assert.Equal("data: [DONE]", events[^2]);
        var chunks = events[..^2].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();

        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk.GetProperty("choices").EnumerateArray());
        Assert.Equal(whole.GetProperty("usage").GetRawText(), usageChunk.GetProperty("usage").GetRawText());
        var textChunks = chunks[..^1];
        Assert.All(textChunks, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        Assert.Equal("assistant", textChunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("finish_reason").GetString(), textChunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var streamed = string.Concat(textChunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var text) ? text.GetString() : string.Empty));
        Assert.Equal(message.GetProperty("content").GetString(), streamed);
    }

    [Fact]
    public async Task Tritons_generate_extension_answers_whole_and_streamed_for_generative_and_other_models()
    {
        const string prompt = "In the beginning";
        var completion = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"{{prompt}}","max_tokens":5,"temperature":0}""");
        var text = completion.GetProperty("choices")[0].GetProperty("text").GetString();

        var whole = await PostJsonAsync($"v2/models/{Model}/generate", $$$"""{"text_input":"{{{prompt}}}","parameters":{"max_tokens":5,"temperature":0}}""");
        Assert.Equal(Model, whole.GetProperty("model_name").GetString());
        Assert.Equal("1", whole.GetProperty("model_version").GetString());
        Assert.Equal(prompt + text, whole.GetProperty("text_output").GetString()); // the prompt leads, as Triton's vLLM backend answers

        using var response = await _server.SendAsync(HttpMethod.Post, $"v2/models/{Model}/versions/1/generate_stream", $$$"""{"text_input":"{{{prompt}}}","parameters":{"max_tokens":5,"temperature":0}}""");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.True(events.Count > 1, "one event per piece of text");
        Assert.Equal(text, string.Concat(events.Select(e => e.GetProperty("text_output").GetString())));

        var mlp = await PostJsonAsync("v2/models/mlp/generate", """{"features":[5.1,3.5,1.4,0.2]}""");
        Assert.Equal("mlp", mlp.GetProperty("model_name").GetString());
        Assert.Equal(1f, mlp.GetProperty("probabilities").EnumerateArray().Sum(p => p.GetSingle()), 4);
        Assert.Equal(JsonValueKind.Number, mlp.GetProperty("label").ValueKind); // one element: a value, not an array

        using var unknown = await _server.SendAsync(HttpMethod.Post, "v2/models/mlp/generate", """{"nonsense":[1]}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("not an input of model 'mlp'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generation_metrics_are_exported_under_vllms_names_and_count_what_was_served()
    {
        // The same long prompt twice: the second finds the first's blocks in the prefix cache.
        var prompt = string.Join(' ', Enumerable.Repeat("The quick brown fox jumps over the lazy dog.", 8));
        var first = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"{{prompt}}","max_tokens":4,"temperature":0}""");
        var second = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"{{prompt}}","max_tokens":4,"temperature":0}""");
        var generated = first.GetProperty("usage").GetProperty("completion_tokens").GetInt32() + second.GetProperty("usage").GetProperty("completion_tokens").GetInt32();

        using var scraper = new HttpClient();
        var metrics = await scraper.GetStringAsync($"http://127.0.0.1:{_server.Server.MetricsPort}/metrics");
        double Sample(string name) => double.Parse(
            metrics.Split('\n').Single(l => l.StartsWith(name + "{model=\"gpt\",version=\"1\"", StringComparison.Ordinal) && !l.Contains("finished_reason", StringComparison.Ordinal) && !l.Contains("le=", StringComparison.Ordinal)).Split(' ')[^1],
            System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(Sample("turbine_llm_generation_tokens_total") >= generated);
        Assert.True(Sample("turbine_llm_prompt_tokens_total") >= 2 * first.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.True(Sample("turbine_llm_prefix_cache_hits_total") >= 16, "the second prompt reused at least one block of the first");
        Assert.True(Sample("turbine_llm_time_to_first_token_seconds_count") >= 2);
        Assert.Equal(0, Sample("turbine_llm_num_requests_running"));
        Assert.Contains("# TYPE turbine_llm_e2e_request_latency_seconds histogram", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_llm_request_success_total{model=\"gpt\",version=\"1\",finished_reason=\"length\"}", metrics, StringComparison.Ordinal);
        var (exitCode, lint) = await MetricsTests.PromtoolCheckAsync(metrics);
        Assert.True(exitCode == 0, lint);
    }

    [Fact]
    public async Task A_chat_template_from_the_configuration_makes_the_prompt_and_its_exceptions_are_bad_requests()
    {
        var answer = await PostJsonAsync("v1/chat/completions", """{"model":"templated","messages":[{"role":"user","content":" Hi "}],"max_tokens":2}""");
        Assert.Equal(Gpt2.CountTokens("<|endoftext|><user>Hi</user><assistant>"), answer.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        using var refused = await _server.SendAsync(HttpMethod.Post, "v1/chat/completions", """{"model":"templated","messages":[{"role":"system","content":"x"},{"role":"user","content":"Hi"}]}""");
        var text = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("System role not supported", text, StringComparison.Ordinal);
        Assert.Equal("messages", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Hostile_bodies_get_a_clean_400_and_the_engine_keeps_serving()
    {
        string[] bodies =
        [
            new string('[', 10_000) + new string(']', 10_000),
            $$"""{"model":"gpt","prompt":{{new string('[', 100) + "1" + new string(']', 100)}}}""",
            """{"model":"gpt","prompt":"hi","n":100000}""",
            """{"model":"gpt","prompt":"hi","max_tokens":1e30}""",
            """{"model":"gpt","prompt":"hi","stop":["a","b","c","d","e"]}""",
            """{"model":"gpt","prompt":[-5, 3]}""",
            """{"model":"gpt","prompt":[]}""",
            """{"model":"gpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://169.254.169.254/"}}]}]}""",
            """{"model":"gpt","prompt":"hi","seed":"zero"}""",
            """{"model":["gpt"],"prompt":"hi"}""",
            """{"model":"gpt\u0000\r\n","prompt":"hi"}""",
            """{"model":"gpt","prompt":"hi","tools":[{"type":"function","function":{"name":"x"}}]}""",
            """{"model":"gpt","prompt":"hi","response_format":{"type":"json_schema","json_schema":{"schema":{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}}}}""",
        ];
        foreach (var body in bodies)
        {
            var path = body.Contains("messages", StringComparison.Ordinal) ? "v1/chat/completions" : "v1/completions";
            using var response = await _server.SendAsync(HttpMethod.Post, path, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{body[..Math.Min(60, body.Length)]}: {(int)response.StatusCode} {text}");
            Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("message").GetString()));
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        }

        using var embeddings = await _server.SendAsync(HttpMethod.Post, "v1/embeddings", $$"""{"model":"gpt","input":{{JsonSerializer.Serialize(Enumerable.Repeat("x", 2049))}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, embeddings.StatusCode);
        var completion = await PostJsonAsync("v1/completions", """{"model":"gpt","prompt":"still serving","max_tokens":2}""");
        Assert.Equal("text_completion", completion.GetProperty("object").GetString());
    }

    [Fact]
    public async Task Logprobs_come_back_in_each_apis_form_whole_and_streamed()
    {
        var chat = await PostJsonAsync("v1/chat/completions", $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0,"logprobs":true,"top_logprobs":3}""");
        var choice = chat.GetProperty("choices")[0];
        var content = choice.GetProperty("logprobs").GetProperty("content").EnumerateArray().ToList();
        Assert.NotEmpty(content);
        Assert.All(content, entry =>
        {
            var top = entry.GetProperty("top_logprobs").EnumerateArray().ToList();
            Assert.Equal(3, top.Count);
            Assert.True(entry.GetProperty("logprob").GetDouble() <= 0);
            Assert.Equal(top[0].GetProperty("logprob").GetDouble(), entry.GetProperty("logprob").GetDouble(), 5); // greedy: the chosen is the likeliest
            Assert.True(top.Zip(top.Skip(1)).All(p => p.First.GetProperty("logprob").GetDouble() >= p.Second.GetProperty("logprob").GetDouble()));
            var bytes = entry.GetProperty("bytes").EnumerateArray().Select(b => (byte)b.GetInt32()).ToArray();
            var token = entry.GetProperty("token").GetString()!;
            if (!token.Contains('\uFFFD', StringComparison.Ordinal))
            {
                Assert.Equal(System.Text.Encoding.UTF8.GetBytes(token), bytes); // a whole character's token: its text's bytes
            }
            else
            {
                Assert.NotEqual(System.Text.Encoding.UTF8.GetBytes(token), bytes); // a piece of one: its raw bytes, not the replacement character's
            }
        });

        using var response = await _server.SendAsync(HttpMethod.Post, "v1/chat/completions",
            $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0,"logprobs":true,"top_logprobs":3,"stream":true}""");
        var streamed = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).SkipLast(1)
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("logprobs"))
            .Where(l => l.ValueKind == JsonValueKind.Object)
            .SelectMany(l => l.GetProperty("content").EnumerateArray())
            .Select(e => (e.GetProperty("token").GetString(), Math.Round(e.GetProperty("logprob").GetDouble(), 4))).ToList();
        Assert.Equal(content.Select(e => (e.GetProperty("token").GetString(), Math.Round(e.GetProperty("logprob").GetDouble(), 4))), streamed);

        var completion = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"Once","max_tokens":5,"temperature":0,"logprobs":2,"echo":true}""");
        var legacy = completion.GetProperty("choices")[0].GetProperty("logprobs");
        var tokens = legacy.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        var offsets = legacy.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToList();
        Assert.Equal(tokens.Count, legacy.GetProperty("token_logprobs").GetArrayLength());
        Assert.Equal(tokens.Count, legacy.GetProperty("top_logprobs").GetArrayLength());
        Assert.Equal("Once".Length, offsets[0]); // echoed: the generated tokens start after the prompt
        Assert.Equal(offsets.Skip(1), offsets.Zip(tokens).SkipLast(1).Select(p => p.First + p.Second.Length));
        Assert.All(legacy.GetProperty("top_logprobs").EnumerateArray(), top => Assert.InRange(top.EnumerateObject().Count(), 1, 2));
    }

    [Fact]
    public async Task Structured_outputs_follow_the_json_schema_whatever_the_model_draws()
    {
        const string schema = """
            {"type":"object","properties":{"color":{"enum":["red","green","blue"]},"count":{"type":"integer"},"ok":{"type":"boolean"},
             "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":3}},"required":["color","count","ok"]}
            """;
        for (var seed = 1; seed <= 4; seed++)
        {
            var answer = await PostJsonAsync("v1/chat/completions", $$$"""
                {"model":"{{{Model}}}","messages":[{"role":"user","content":"Describe a ball."}],"max_tokens":120,"temperature":1.2,"seed":{{{seed}}},
                 "response_format":{"type":"json_schema","json_schema":{"name":"ball","schema":
                """ + schema + "}}}");
            var choice = answer.GetProperty("choices")[0];
            var content = choice.GetProperty("message").GetProperty("content").GetString()!;
            Assert.True(choice.GetProperty("finish_reason").GetString() == "stop", $"seed {seed} did not finish: {content}");
            var json = JsonDocument.Parse(content).RootElement; // random weights, yet valid JSON of the schema
            Assert.Contains(json.GetProperty("color").GetString(), new[] { "red", "green", "blue" });
            Assert.Equal(JsonValueKind.Number, json.GetProperty("count").ValueKind);
            Assert.DoesNotContain(json.GetProperty("count").GetRawText(), c => c is '.' or 'e' or 'E'); // an integer, however long
            Assert.True(json.GetProperty("ok").ValueKind is JsonValueKind.True or JsonValueKind.False);
            if (json.TryGetProperty("tags", out var tags))
            {
                Assert.InRange(tags.GetArrayLength(), 0, 3);
                Assert.All(tags.EnumerateArray(), t => Assert.Contains(t.GetString(), new[] { "a", "b" }));
            }
        }

        // json_object: an object from the first character on, whatever the text it holds.
        var free = await PostJsonAsync("v1/completions", $$$"""{"model":"{{{Model}}}","prompt":"JSON:","max_tokens":12,"temperature":0,"response_format":{"type":"json_object"}}""");
        var text = free.GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.StartsWith("{", text, StringComparison.Ordinal);
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text), isFinalBlock: false, state: default);
        while (reader.Read())
        {
            // A valid prefix reads to its end without an exception.
        }
    }

    [Fact]
    public async Task Tool_calls_the_model_writes_come_back_as_tool_calls_whole_and_streamed()
    {
        // The templated model reads llama3_json calls; a schema holds its answer to a call, so random weights make one.
        const string tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""";
        const string call = """{"type":"object","properties":{"name":{"const":"get_weather"},"parameters":{"type":"object","properties":{"city":{"enum":["Paris","Rome"]}},"required":["city"]}},"required":["name","parameters"]}""";
        const string messages = """[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":"","tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Rome\"}"}}]},{"role":"tool","tool_call_id":"call_0","content":"sunny"}]""";
        var body = $$$"""{"model":"templated","messages":{{{messages}}},"tools":{{{tools}}},"max_tokens":40,"temperature":1,"seed":5,"response_format":{"type":"json_schema","json_schema":{"name":"call","schema":""" + call + "}}}";

        var whole = await PostJsonAsync("v1/chat/completions", body);
        var choice = whole.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var toolCall = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.StartsWith("call_", toolCall.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", toolCall.GetProperty("type").GetString());
        Assert.Equal("get_weather", toolCall.GetProperty("function").GetProperty("name").GetString());
        var arguments = JsonDocument.Parse(toolCall.GetProperty("function").GetProperty("arguments").GetString()!).RootElement;
        Assert.Contains(arguments.GetProperty("city").GetString(), new[] { "Paris", "Rome" });
        // The template saw the tools and the earlier call's arguments as an object.
        Assert.True(whole.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > Gpt2.CountTokens(tools));

        using var response = await _server.SendAsync(HttpMethod.Post, "v1/chat/completions", body.Replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\"", StringComparison.Ordinal));
        var chunks = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).SkipLast(1)
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0]).ToList();
        var streamedCall = Assert.Single(chunks, c => c.GetProperty("delta").TryGetProperty("tool_calls", out _)).GetProperty("delta").GetProperty("tool_calls")[0];
        Assert.Equal(0, streamedCall.GetProperty("index").GetInt32());
        Assert.Equal(toolCall.GetProperty("function").GetProperty("arguments").GetString(), streamedCall.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool_calls", chunks[^1].GetProperty("finish_reason").GetString());
        Assert.DoesNotContain(chunks, c => c.GetProperty("delta").TryGetProperty("content", out var text) && text.GetString()!.Contains("get_weather", StringComparison.Ordinal));

        using var noFormat = await _server.SendAsync(HttpMethod.Post, "v1/chat/completions", $$$"""{"model":"{{{Model}}}","messages":[{"role":"user","content":"hi"}],"tools":{{{tools}}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, noFormat.StatusCode); // ChatML has no tool format
    }

    [Theory]
    [InlineData("""{"type":"function","function":{"name":"get_weather"}}""")]
    [InlineData("\"required\"")]
    public async Task A_forced_tool_choice_makes_the_answer_a_call_held_to_the_functions_parameters(string choice)
    {
        const string tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"enum":["Paris","Rome"]},"days":{"type":"integer"}},"required":["city"]}}}]""";
        var answer = await PostJsonAsync("v1/chat/completions", $$$"""
            {"model":"templated","messages":[{"role":"user","content":"Weather?"}],"tools":{{{tools}}},"tool_choice":{{{choice}}},"max_tokens":60,"temperature":1,"seed":11}
            """);
        var message = answer.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("tool_calls", answer.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var function = Assert.Single(message.GetProperty("tool_calls").EnumerateArray()).GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        var arguments = JsonDocument.Parse(function.GetProperty("arguments").GetString()!).RootElement;
        Assert.Contains(arguments.GetProperty("city").GetString(), new[] { "Paris", "Rome" });

        using var unknown = await _server.SendAsync(HttpMethod.Post, "v1/chat/completions",
            $$$$"""{"model":"templated","messages":[{"role":"user","content":"Weather?"}],"tools":{{{{tools}}}},"tool_choice":{"type":"function","function":{"name":"other"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task Tritons_vllm_style_inputs_carry_the_sampling_settings_and_are_optional()
    {
        var config = await _server.GetJsonAsync($"v2/models/{Model}/config");
        Assert.Equal(
            ["text_input:False", "stream:True", "sampling_parameters:True", "exclude_input_in_output:True"],
            config.GetProperty("input").EnumerateArray().Select(i => $"{i.GetProperty("name").GetString()}:{i.TryGetProperty("optional", out var o) && o.GetBoolean()}"));

        var completion = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"Tell me","max_tokens":4,"temperature":0}""");
        var infer = await PostJsonAsync($"v2/models/{Model}/infer", """
            {"inputs":[{"name":"text_input","datatype":"BYTES","shape":[1],"data":["Tell me"]},
                       {"name":"sampling_parameters","datatype":"BYTES","shape":[1],"data":["{\"max_tokens\": 4, \"temperature\": 0}"]},
                       {"name":"exclude_input_in_output","datatype":"BOOL","shape":[1],"data":[true]}]}
            """);
        Assert.Equal(completion.GetProperty("choices")[0].GetProperty("text").GetString(), infer.GetProperty("outputs")[0].GetProperty("data")[0].GetString());

        var generate = await PostJsonAsync($"v2/models/{Model}/generate", """{"text_input":"Tell me","sampling_parameters":"{\"max_tokens\": 4, \"temperature\": 0}","exclude_input_in_output":true,"stream":false}""");
        Assert.Equal(completion.GetProperty("choices")[0].GetProperty("text").GetString(), generate.GetProperty("text_output").GetString());

        using var streamed = await _server.SendAsync(HttpMethod.Post, $"v2/models/{Model}/infer", """
            {"inputs":[{"name":"text_input","datatype":"BYTES","shape":[1],"data":["x"]},{"name":"stream","datatype":"BOOL","shape":[1],"data":[true]}]}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, streamed.StatusCode);
        using var badJson = await _server.SendAsync(HttpMethod.Post, $"v2/models/{Model}/generate", """{"text_input":"x","sampling_parameters":"not json"}""");
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
    }

    [Fact]
    public async Task Stop_token_ids_end_the_text_before_the_token()
    {
        var free = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"Numbers:","max_tokens":8,"temperature":0,"logprobs":0}""");
        var tokens = free.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        var cut = Enumerable.Range(1, tokens.Count - 1).First(i => Gpt2.EncodeToIds(tokens[i]) is [_] && !tokens[i].Contains('\uFFFD', StringComparison.Ordinal));
        var stopId = Gpt2.EncodeToIds(tokens[cut])[0];
        var first = tokens.FindIndex(t => t == tokens[cut]); // the text ends at the token's first appearance

        var stopped = await PostJsonAsync("v1/completions", $$"""{"model":"{{Model}}","prompt":"Numbers:","max_tokens":8,"temperature":0,"stop_token_ids":[{{stopId}}]}""");
        var choice = stopped.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(string.Concat(tokens.Take(first)), choice.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Seeded_choices_are_reproducible_and_differ_from_each_other()
    {
        const string body = $$"""{"model":"{{Model}}","prompt":"Once upon a time","max_tokens":10,"temperature":1.5,"seed":42,"n":3}""";
        var first = await PostJsonAsync("v1/completions", body);
        var second = await PostJsonAsync("v1/completions", body);

        var texts = first.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()).ToList();
        Assert.Equal(3, texts.Count);
        Assert.Equal(texts, second.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
        Assert.True(texts.Distinct().Count() > 1, string.Join(" | ", texts));
        Assert.Equal([0, 1, 2], first.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("index").GetInt32()));
    }

    [Theory]
    [InlineData("v1/chat/completions", """{"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":-1}""", 400, "max_tokens", null)]
    [InlineData("v1/chat/completions", """{"model":"nope","messages":[{"role":"user","content":"hi"}]}""", 404, "model", "model_not_found")]
    [InlineData("v1/chat/completions", """{"model":"gpt","messages":[]}""", 400, "messages", null)]
    [InlineData("v1/chat/completions", """{"model":"gpt","messages":[{"role":"wizard","content":"hi"}]}""", 400, "messages", null)]
    [InlineData("v1/completions", """{"model":"gpt","prompt":"hi","max_tokens":300}""", 400, "prompt", "context_length_exceeded")]
    [InlineData("v1/chat/completions", """{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":"not a schema"}}}""", 400, "response_format", null)]
    [InlineData("v1/chat/completions", """{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"frobnicate"}}}}""", 400, "response_format", null)]
    [InlineData("v1/completions", """{"model":"gpt","prompt":"hi","temperature":3}""", 400, "temperature", null)]
    [InlineData("v1/completions", """{"model":"gpt","prompt":"hi","stream_options":{"include_usage":true}}""", 400, "stream_options", null)]
    [InlineData("v1/completions", """{"model":"gpt","prompt":[99999999]}""", 400, "prompt", null)]
    [InlineData("v1/chat/completions", """{"model":"gpt","messages":[{"role":"user","content":"hi"}],"top_logprobs":2}""", 400, "top_logprobs", null)]
    [InlineData("v1/completions", """{"model":"gpt","prompt":"hi","logprobs":6}""", 400, "logprobs", null)]
    [InlineData("v1/completions", """{"model":"gpt","prompt":"hi","stop_token_ids":[-1]}""", 400, "stop_token_ids", null)]
    [InlineData("v1/completions", """{"model":"gpt","prompt":""", 400, null, null)]
    public async Task Bad_requests_get_the_openai_error_object_with_the_right_status(string path, string body, int status, string? param, string? code)
    {
        using var response = await _server.SendAsync(HttpMethod.Post, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, text);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(status == 404 ? "invalid_request_error" : "invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());

        // The server keeps serving.
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Get, "v1/models", null)).StatusCode);
    }

    [Fact]
    public async Task A_client_leaving_mid_stream_gives_its_sequences_cache_back()
    {
        var blocks = Runner().Model.Engine.Blocks;
        var idle = blocks.Available;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions"))
        {
            request.Content = new StringContent($$"""{"model":"{{Model}}","prompt":"Count to a thousand:","max_tokens":200,"temperature":0.8,"n":2,"stream":true}""", Encoding.UTF8, "application/json");
            using var response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync(), StringComparison.Ordinal);
            Assert.True(blocks.Available < idle, "the streaming sequences hold blocks while they run");
        }

        // Disposing the response aborts the request; the engine drops both sequences between steps.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (blocks.Available < idle || Runner().ExecutingRequests > 0)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal(idle, blocks.Available);
    }

    private GenerationRunner Runner()
    {
        _server.Server.Services.GetRequiredService<ModelManager>().Resolve(Model, null, out var runner);
        return (GenerationRunner)runner!;
    }

    private async Task<JsonElement> PostJsonAsync(string path, string body)
    {
        using var response = await _server.SendAsync(HttpMethod.Post, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
