using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Turbine.Protocols.KServe;

namespace Turbine.Client;

/// <summary>A KServe v2 REST client. Sends inputs in the binary tensor extension by default, as Triton's clients do.</summary>
public sealed class TurbineHttpClient : ITurbineClient
{
    private const string HeaderLengthName = "Inference-Header-Content-Length";
    private static readonly KServeLimits ResponseLimits = new(long.MaxValue / 2, 128);
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a client for <paramref name="baseAddress"/>, e.g. <c>http://localhost:8000</c>.</summary>
    public TurbineHttpClient(Uri baseAddress, string? managementToken = null)
        : this(new HttpClient { BaseAddress = baseAddress }, managementToken, ownsHttp: true)
    {
    }

    /// <summary>Creates a client over an existing <see cref="HttpClient"/> (its BaseAddress must be set).</summary>
    public TurbineHttpClient(HttpClient http, string? managementToken = null)
        : this(http, managementToken, ownsHttp: false)
    {
    }

    private TurbineHttpClient(HttpClient http, string? managementToken, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsHttp = ownsHttp;
        ManagementToken = managementToken;
    }

    /// <summary>Whether inputs go as binary (true, the default) or as JSON <c>data</c> arrays.</summary>
    public bool BinaryInputs { get; set; } = true;

    /// <summary>The bearer token sent with repository calls, if any.</summary>
    public string? ManagementToken { get; set; }

    /// <inheritdoc />
    public async Task<bool> IsServerLiveAsync(CancellationToken cancellationToken = default) =>
        await StatusOkAsync("v2/health/live", cancellationToken);

    /// <inheritdoc />
    public async Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default) =>
        await StatusOkAsync("v2/health/ready", cancellationToken);

    /// <inheritdoc />
    public async Task<bool> IsModelReadyAsync(string model, string? version = null, CancellationToken cancellationToken = default) =>
        await StatusOkAsync(ModelPath(model, version) + "/ready", cancellationToken);

    /// <inheritdoc />
    public async Task<ServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default)
    {
        using var document = await GetJsonAsync("v2", cancellationToken);
        var root = document.RootElement;
        return new ServerMetadata(
            root.GetProperty("name").GetString()!,
            root.GetProperty("version").GetString()!,
            root.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()!).ToList());
    }

    /// <inheritdoc />
    public async Task<ModelMetadata> GetModelMetadataAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        using var document = await GetJsonAsync(ModelPath(model, version), cancellationToken);
        var root = document.RootElement;
        return new ModelMetadata(
            root.GetProperty("name").GetString()!,
            root.GetProperty("versions").EnumerateArray().Select(e => e.GetString()!).ToList(),
            root.GetProperty("platform").GetString()!,
            Tensors(root.GetProperty("inputs")),
            Tensors(root.GetProperty("outputs")));
    }

    /// <inheritdoc />
    public async Task<string> GetModelConfigJsonAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, ModelPath(model, version) + "/config"), cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ModelStatisticsSummary>> GetModelStatisticsAsync(string? model = null, string? version = null, CancellationToken cancellationToken = default)
    {
        var path = model is null ? "v2/models/stats" : ModelPath(model, version) + "/stats";
        using var document = await GetJsonAsync(path, cancellationToken);
        var result = new List<ModelStatisticsSummary>();
        foreach (var stats in document.RootElement.GetProperty("model_stats").EnumerateArray())
        {
            var inference = stats.GetProperty("inference_stats");
            result.Add(new ModelStatisticsSummary(
                stats.GetProperty("name").GetString()!,
                stats.GetProperty("version").GetString()!,
                stats.GetProperty("inference_count").GetInt64(),
                stats.GetProperty("execution_count").GetInt64(),
                inference.GetProperty("success").GetProperty("count").GetInt64(),
                inference.GetProperty("success").GetProperty("ns").GetInt64(),
                inference.GetProperty("fail").GetProperty("count").GetInt64(),
                inference.GetProperty("queue").GetProperty("ns").GetInt64(),
                inference.GetProperty("compute_infer").GetProperty("ns").GetInt64()));
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RepositoryModel>> GetRepositoryIndexAsync(bool readyOnly = false, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Post, "v2/repository/index");
        message.Content = new StringContent(readyOnly ? "{\"ready\":true}" : "{}", Encoding.UTF8, "application/json");
        using var response = await SendAsync(message, cancellationToken);
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return document.RootElement.EnumerateArray().Select(e => new RepositoryModel(
            e.GetProperty("name").GetString()!,
            e.TryGetProperty("version", out var v) ? v.GetString() : null,
            e.GetProperty("state").GetString()!,
            e.TryGetProperty("reason", out var r) ? r.GetString() ?? string.Empty : string.Empty)).ToList();
    }

    /// <inheritdoc />
    public async Task LoadModelAsync(string model, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Post, $"v2/repository/models/{Uri.EscapeDataString(model)}/load");
        using var response = await SendAsync(message, cancellationToken);
    }

    /// <summary>Loads (or reloads) a model with <paramref name="configJson"/> in place of its config file (Triton's <c>config</c> parameter).</summary>
    public Task LoadModelAsync(string model, string configJson, CancellationToken cancellationToken = default) =>
        LoadModelAsync(model, configJson, new Dictionary<string, byte[]>(), cancellationToken);

    /// <summary>
    /// Loads (or reloads) a model from files sent with the request (Triton's <c>file:</c> parameters), keyed by their
    /// path in the model folder (<c>1/model.onnx</c>), with <paramref name="configJson"/> as its configuration.
    /// </summary>
    public async Task LoadModelAsync(string model, string configJson, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        using var message = Management(HttpMethod.Post, $"v2/repository/models/{Uri.EscapeDataString(model)}/load");
        message.Content = JsonBody(writer =>
        {
            writer.WriteStartObject("parameters");
            writer.WriteString("config", configJson);
            foreach (var (path, content) in files)
            {
                writer.WriteBase64String("file:" + path, content);
            }

            writer.WriteEndObject();
        });
        using var response = await SendAsync(message, cancellationToken);
    }

    /// <summary>A model's ready versions, default version and labels.</summary>
    public Task<ServingView> GetServingAsync(string model, CancellationToken cancellationToken = default) =>
        RoutingAsync(HttpMethod.Get, model, "versions", null, cancellationToken);

    /// <summary>Pins the version that answers requests naming none; null unpins (the newest ready version answers).</summary>
    public Task<ServingView> SetDefaultVersionAsync(string model, long? version, CancellationToken cancellationToken = default) =>
        RoutingAsync(HttpMethod.Put, model, "default", VersionBody(version), cancellationToken);

    /// <summary>Points a label at a ready version; null removes the label.</summary>
    public Task<ServingView> SetLabelAsync(string model, string label, long? version, CancellationToken cancellationToken = default) =>
        version is null
            ? RoutingAsync(HttpMethod.Delete, model, "labels/" + Uri.EscapeDataString(label), null, cancellationToken)
            : RoutingAsync(HttpMethod.Put, model, "labels/" + Uri.EscapeDataString(label), VersionBody(version), cancellationToken);

    /// <summary>Makes the newest ready version older than the current default the default.</summary>
    public Task<ServingView> RollbackAsync(string model, CancellationToken cancellationToken = default) =>
        RoutingAsync(HttpMethod.Post, model, "rollback", null, cancellationToken);

    private async Task<ServingView> RoutingAsync(HttpMethod method, string model, string action, HttpContent? body, CancellationToken cancellationToken)
    {
        using var message = Management(method, $"v2/repository/models/{Uri.EscapeDataString(model)}/{action}");
        message.Content = body;
        using var response = await SendAsync(message, cancellationToken);
        return RepositoryJson.ReadServingView(await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    private static ByteArrayContent VersionBody(long? version) => JsonBody(writer =>
    {
        if (version is { } v)
        {
            writer.WriteNumber("version", v);
        }
        else
        {
            writer.WriteNull("version");
        }
    });

    private static ByteArrayContent JsonBody(Action<Utf8JsonWriter> writeProperties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        var content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Every route: its name and variants, and its whole definition as JSON.</summary>
    public async Task<IReadOnlyList<RouteSummary>> GetRoutesAsync(CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, "v2/routes");
        using var response = await SendAsync(message, cancellationToken);
        return ControlPlaneReader.Routes(await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    /// <summary>Adds or replaces a route from its JSON (docs/TRAFFIC.md); returns the route as the server stored it.</summary>
    public async Task<string> SetRouteAsync(string name, string routeJson, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Put, $"v2/routes/{Uri.EscapeDataString(name)}");
        message.Content = new StringContent(routeJson, Encoding.UTF8, "application/json");
        using var response = await SendAsync(message, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>A route's A/B report: per-arm requests, conversions, values, intervals and tests against the first arm.</summary>
    public async Task<RouteReport> GetRouteReportAsync(string name, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, $"v2/routes/{Uri.EscapeDataString(name)}/report");
        return await ReadAsync(message, ControlPlaneJson.Default.RouteReport, cancellationToken);
    }

    /// <summary>A model's drift per monitored version (one version when <paramref name="version"/> is given).</summary>
    public async Task<ModelDrift> GetDriftAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        var query = string.IsNullOrEmpty(version) ? string.Empty : $"?version={Uri.EscapeDataString(version)}";
        using var message = new HttpRequestMessage(HttpMethod.Get, $"v2/models/{Uri.EscapeDataString(model)}/drift{query}");
        return await ReadAsync(message, ControlPlaneJson.Default.ModelDrift, cancellationToken);
    }

    /// <summary>The cost attributed to model versions, route arms, batch jobs and API keys.</summary>
    public async Task<CostView> GetCostAsync(CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, "v2/cost");
        return await ReadAsync(message, ControlPlaneJson.Default.CostView, cancellationToken);
    }

    /// <summary>A route's canary rollout: state, canary share, the current step's figures and the last decisions.</summary>
    public async Task<CanaryStatus> GetCanaryAsync(string route, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, $"v2/routes/{Uri.EscapeDataString(route)}/canary");
        return await ReadAsync(message, ControlPlaneJson.Default.CanaryStatus, cancellationToken);
    }

    /// <summary>Pauses, resumes, promotes or rolls back a route's canary rollout; the reason goes to the audit log. Returns the new status.</summary>
    public async Task<CanaryStatus> ControlCanaryAsync(string route, string action, string? reason = null, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Post, $"v2/routes/{Uri.EscapeDataString(route)}/canary/{Uri.EscapeDataString(action)}");
        message.Content = JsonBody(writer =>
        {
            if (reason is not null)
            {
                writer.WriteString("reason", reason);
            }
        });
        return await ReadAsync(message, ControlPlaneJson.Default.CanaryStatus, cancellationToken);
    }

    /// <summary>Submits a batch job from its definition's JSON (docs/BATCH.md); returns it, queued.</summary>
    public async Task<BatchJob> SubmitJobAsync(string definitionJson, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Post, "v2/jobs");
        message.Content = new StringContent(definitionJson, Encoding.UTF8, "application/json");
        return await ReadAsync(message, ControlPlaneJson.Default.BatchJob, cancellationToken);
    }

    /// <summary>Every batch job, newest first.</summary>
    public async Task<IReadOnlyList<BatchJob>> GetJobsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, "v2/jobs");
        return (await ReadAsync(message, ControlPlaneJson.Default.BatchJobList, cancellationToken)).Jobs;
    }

    /// <summary>A batch job with its progress.</summary>
    public async Task<BatchJob> GetJobAsync(string id, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, $"v2/jobs/{Uri.EscapeDataString(id)}");
        return await ReadAsync(message, ControlPlaneJson.Default.BatchJob, cancellationToken);
    }

    /// <summary>Pauses, resumes or cancels a batch job; returns it after the change.</summary>
    public async Task<BatchJob> ControlJobAsync(string id, string action, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Post, $"v2/jobs/{Uri.EscapeDataString(id)}/{Uri.EscapeDataString(action)}");
        return await ReadAsync(message, ControlPlaneJson.Default.BatchJob, cancellationToken);
    }

    /// <summary>A batch job's output files by name.</summary>
    public async Task<BatchJobResults> GetJobResultsAsync(string id, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, $"v2/jobs/{Uri.EscapeDataString(id)}/results");
        return await ReadAsync(message, ControlPlaneJson.Default.BatchJobResults, cancellationToken);
    }

    /// <summary>Copies one of a batch job's output files into <paramref name="destination"/>.</summary>
    public async Task DownloadJobResultAsync(string id, string name, Stream destination, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, $"v2/jobs/{Uri.EscapeDataString(id)}/results/{string.Join('/', name.Split('/').Select(Uri.EscapeDataString))}");
        using var response = await SendAsync(message, cancellationToken);
        await response.Content.CopyToAsync(destination, cancellationToken);
    }

    private async Task<T> ReadAsync<T>(HttpRequestMessage message, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(message, cancellationToken);
        return JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken), type)
            ?? throw new TurbineClientException(StatusCode.Internal, "the server answered with an empty body");
    }

    /// <summary>Records an outcome for the request <paramref name="requestId"/> that <paramref name="route"/> served.</summary>
    public async Task SendFeedbackAsync(string route, string requestId, bool? converted, double? value, CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{Uri.EscapeDataString(route)}/feedback");
        message.Content = JsonBody(writer =>
        {
            writer.WriteString("request_id", requestId);
            if (converted is { } yes)
            {
                writer.WriteBoolean("converted", yes);
            }

            if (value is { } number)
            {
                writer.WriteNumber("value", number);
            }
        });
        using var response = await SendAsync(message, cancellationToken);
    }

    /// <summary>Every pipeline: its name and steps, and its whole definition as JSON.</summary>
    public async Task<IReadOnlyList<PipelineSummary>> GetPipelinesAsync(CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, "v2/pipelines");
        using var response = await SendAsync(message, cancellationToken);
        return ControlPlaneReader.Pipelines(await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    /// <summary>Adds or replaces a pipeline from its JSON (docs/TRAFFIC.md); returns it as the server stored it.</summary>
    public Task<string> SetPipelineAsync(string name, string pipelineJson, CancellationToken cancellationToken = default) =>
        ManagementJsonAsync(HttpMethod.Put, $"v2/pipelines/{Uri.EscapeDataString(name)}", pipelineJson, cancellationToken);

    /// <summary>A pipeline's statistics: requests, each step's executions and time, cascade stages, switch cases.</summary>
    public async Task<PipelineStatistics> GetPipelineStatisticsAsync(string name, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Get, $"v2/pipelines/{Uri.EscapeDataString(name)}/stats");
        return await ReadAsync(message, ControlPlaneJson.Default.PipelineStatistics, cancellationToken);
    }

    /// <summary>Deletes a pipeline.</summary>
    public Task DeletePipelineAsync(string name, CancellationToken cancellationToken = default) =>
        ManagementJsonAsync(HttpMethod.Delete, $"v2/pipelines/{Uri.EscapeDataString(name)}", null, cancellationToken);

    private async Task<string> ManagementJsonAsync(HttpMethod method, string path, string? json, CancellationToken cancellationToken)
    {
        using var message = Management(method, path);
        if (json is not null)
        {
            message.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await SendAsync(message, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>Deletes a route.</summary>
    public async Task DeleteRouteAsync(string name, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Delete, $"v2/routes/{Uri.EscapeDataString(name)}");
        using var response = await SendAsync(message, cancellationToken);
    }

    /// <inheritdoc />
    public async Task UnloadModelAsync(string model, CancellationToken cancellationToken = default)
    {
        using var message = Management(HttpMethod.Post, $"v2/repository/models/{Uri.EscapeDataString(model)}/unload");
        using var response = await SendAsync(message, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new ArrayBufferWriter<byte>(4096);
        var headerLength = KServeRequestEncoder.Write(body, request, BinaryInputs);
        using var message = new HttpRequestMessage(HttpMethod.Post, ModelPath(request.ModelName, request.ModelVersion) + "/infer")
        {
            Content = new ReadOnlyMemoryContent(body.WrittenMemory),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(headerLength >= 0 ? "application/octet-stream" : "application/json");
        if (headerLength >= 0)
        {
            message.Headers.Add(HeaderLengthName, headerLength.ToString(CultureInfo.InvariantCulture));
        }

        using var response = await SendAsync(message, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var responseHeaderLength = response.Headers.TryGetValues(HeaderLengthName, out var values) &&
            int.TryParse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : -1;
        var error = KServeResponseDecoder.Decode(bytes, responseHeaderLength, ResponseLimits, out var decoded);
        return error is null ? decoded! : throw new TurbineClientException(error.Code, error.Message);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static string ModelPath(string model, string? version) =>
        string.IsNullOrEmpty(version)
            ? $"v2/models/{Uri.EscapeDataString(model)}"
            : $"v2/models/{Uri.EscapeDataString(model)}/versions/{Uri.EscapeDataString(version)}";

    private HttpRequestMessage Management(HttpMethod method, string path)
    {
        var message = new HttpRequestMessage(method, path);
        if (!string.IsNullOrEmpty(ManagementToken))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ManagementToken);
        }

        return message;
    }

    private async Task<bool> StatusOkAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        return response.StatusCode == HttpStatusCode.OK;
    }

    private async Task<JsonDocument> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(message, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            string errorMessage;
            try
            {
                using var document = JsonDocument.Parse(text);
                errorMessage = document.RootElement.TryGetProperty("error", out var error) ? error.GetString() ?? text : text;
            }
            catch (JsonException)
            {
                errorMessage = text;
            }

            throw new TurbineClientException(FromHttpStatus(response.StatusCode), errorMessage, (int)response.StatusCode);
        }
    }

    private static StatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType or HttpStatusCode.RequestEntityTooLarge => StatusCode.InvalidArgument,
        HttpStatusCode.NotFound => StatusCode.NotFound,
        HttpStatusCode.ServiceUnavailable => StatusCode.Unavailable,
        HttpStatusCode.TooManyRequests => StatusCode.ResourceExhausted,
        HttpStatusCode.GatewayTimeout => StatusCode.DeadlineExceeded,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.Conflict => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    private static List<TensorMetadata> Tensors(JsonElement array) =>
        array.EnumerateArray().Select(t => new TensorMetadata(
            t.GetProperty("name").GetString()!,
            DataTypes.TryParse(t.GetProperty("datatype").GetString(), out var type) ? type : DataType.Invalid,
            t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray())).ToList();
}
