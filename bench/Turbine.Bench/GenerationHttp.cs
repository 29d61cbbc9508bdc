using System.Diagnostics;
using System.Text;
using Turbine.Onnx.Tools.Samples;
using Turbine.Server.Hosting;

namespace Turbine.Bench;

/// <summary>
/// The generation engine through the server: concurrent streamed <c>/v1/completions</c> over HTTP against a real
/// Turbine serving the same generated decoder, counting tokens by their server-sent events, so the server's share of
/// the time (HTTP, JSON, the SSE framing, detokenization) shows beside the in-process figures of the same run.
/// </summary>
internal static class GenerationHttp
{
    public static async Task<(double TokensPerSecond, double TtftP50)> RunAsync(DecoderShape shape, int streams, int promptTokens, int maxTokens)
    {
        var repository = Directory.CreateTempSubdirectory("turbine-bench-llm-").FullName;
        try
        {
            GenerativeModelFolder.Write(Path.Combine(repository, "gpt", "1"), shape);
            File.WriteAllText(Path.Combine(repository, "gpt", "config.json"), """{"backend":"llm","llm":{"kv_cache_bytes":268435456,"max_sequences":64}}""");
            await using var server = await Scenarios.StartTurbineAsync(repository);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };
            await StreamAsync(http, 0, promptTokens, 4); // warm: the model's first pass, the JIT of the path
            var ttft = new List<double>();
            var watch = Stopwatch.StartNew();
            var tokens = await Task.WhenAll(Enumerable.Range(0, streams).Select(async i =>
            {
                var (count, first) = await StreamAsync(http, i, promptTokens, maxTokens);
                lock (ttft)
                {
                    ttft.Add(first);
                }

                return count;
            }));
            ttft.Sort();
            return (tokens.Sum() / watch.Elapsed.TotalSeconds, ttft[ttft.Count / 2]);
        }
        finally
        {
            Directory.Delete(repository, recursive: true);
        }
    }

    /// <summary>One streamed completion of a prompt of token ids: the tokens it reported in its usage, and the time to its first event.</summary>
    private static async Task<(int Tokens, double TtftMs)> StreamAsync(HttpClient http, int seed, int promptTokens, int maxTokens)
    {
        var random = new Random(seed);
        var prompt = string.Join(',', Enumerable.Range(0, promptTokens).Select(_ => random.Next(256, 50_000)));
        var body = $$$"""{"model":"gpt","prompt":[{{{prompt}}}],"max_tokens":{{{maxTokens}}},"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""";
        var start = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        var tokens = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            first ??= Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (line.Contains("\"completion_tokens\":", StringComparison.Ordinal))
            {
                using var usage = System.Text.Json.JsonDocument.Parse(line["data: ".Length..]);
                tokens = usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
            }
        }

        return (tokens, first ?? 0);
    }
}
