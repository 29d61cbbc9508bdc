using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Turbine.Edge.Updates;

/// <summary>
/// The check a slot must pass after a switch: the server is ready (its models loaded and warmed up, which the server
/// does before it listens), and every golden case in the slot's <c>golden/MODEL.jsonl</c> answers within tolerance.
/// A line is <c>{"request": {KServe v2 request}, "expected": {"OUTPUT": [values...]}}</c>, as <c>turbine validate</c> reads.
/// </summary>
public static class SlotHealthCheck
{
    /// <summary>Absolute tolerance of a golden value.</summary>
    public const double AbsoluteTolerance = 1e-4;

    /// <summary>Relative tolerance of a golden value.</summary>
    public const double RelativeTolerance = 1e-3;

    /// <summary>Null when the slot is healthy, otherwise why not.</summary>
    public static async Task<string?> RunAsync(HttpClient http, Uri server, string slotFolder, CancellationToken cancellationToken)
    {
        using (var ready = await http.GetAsync(new Uri(server, "/v2/health/ready"), cancellationToken))
        {
            if (!ready.IsSuccessStatusCode)
            {
                return $"the server is not ready ({(int)ready.StatusCode})";
            }
        }

        var golden = Path.Combine(slotFolder, "golden");
        if (!Directory.Exists(golden))
        {
            return null;
        }

        foreach (var file in Directory.GetFiles(golden, "*.jsonl").Order(StringComparer.Ordinal))
        {
            var model = Path.GetFileNameWithoutExtension(file);
            var number = 0;
            foreach (var line in await File.ReadAllLinesAsync(file, cancellationToken))
            {
                number++;
                if (line.Trim().Length > 0 && await CheckCaseAsync(http, server, model, line, cancellationToken) is { } failure)
                {
                    return $"golden {model} line {number}: {failure}";
                }
            }
        }

        return null;
    }

    private static async Task<string?> CheckCaseAsync(HttpClient http, Uri server, string model, string line, CancellationToken cancellationToken)
    {
        using var golden = JsonDocument.Parse(line);
        if (!golden.RootElement.TryGetProperty("request", out var request) || !golden.RootElement.TryGetProperty("expected", out var expected))
        {
            return "needs \"request\" and \"expected\"";
        }

        using var content = new StringContent(request.GetRawText());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(new Uri(server, $"/v2/models/{Uri.EscapeDataString(model)}/infer"), content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return $"the server answered {(int)response.StatusCode}: {body}";
        }

        using var answer = JsonDocument.Parse(body);
        var outputs = answer.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!, o => o.GetProperty("data"), StringComparer.Ordinal);
        foreach (var output in expected.EnumerateObject())
        {
            if (!outputs.TryGetValue(output.Name, out var data))
            {
                return $"no output '{output.Name}'";
            }

            var want = output.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var got = data.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToArray();
            if (got.Length != want.Length)
            {
                return $"output '{output.Name}' has {got.Length} values, expected {want.Length}";
            }

            for (var i = 0; i < want.Length; i++)
            {
                if (!(Math.Abs(got[i] - want[i]) <= AbsoluteTolerance + (RelativeTolerance * Math.Abs(want[i]))))
                {
                    return $"output '{output.Name}'[{i}] is {got[i].ToString("G9", CultureInfo.InvariantCulture)}, expected {want[i].ToString("G9", CultureInfo.InvariantCulture)}";
                }
            }
        }

        return null;
    }
}
