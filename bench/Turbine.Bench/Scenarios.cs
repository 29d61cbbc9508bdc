using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Turbine.Protocols.Grpc;
using Turbine.Server.Hosting;

namespace Turbine.Bench;

/// <summary>The scenarios compared side by side. Each returns a call the load runner repeats.</summary>
internal sealed class Scenarios(BenchModel benchModel, int concurrency)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 });
    private readonly string repository = benchModel.Repository;
    private readonly string model = benchModel.Name;
    private readonly string modelPath = benchModel.Path;
    private readonly string inputName = benchModel.InputName;
    private readonly long[] shape = benchModel.Shape;
    private readonly float[] input = benchModel.Input;

    /// <summary>A KServe v2 JSON request body of one row.</summary>
    public string JsonBody => $$"""{"inputs":[{"name":"{{inputName}}","shape":[{{string.Join(",", shape)}}],"datatype":"FP32","data":[{{string.Join(",", input.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}}]}]}""";

    /// <summary>A gRPC ModelInfer request of one row, with raw contents.</summary>
    public ModelInferRequest GrpcRequest
    {
        get
        {
            var message = new ModelInferRequest { ModelName = model };
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = inputName, Datatype = "FP32" };
            tensor.Shape.AddRange(shape);
            message.Inputs.Add(tensor);
            message.RawInputContents.Add(ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan())));
            return message;
        }
    }

    /// <summary>
    /// The compute limit at batch <paramref name="rows"/>: one in-process run of many rows, counted in rows per second,
    /// with <paramref name="callers"/> runs side by side.
    /// </summary>
    public async Task<LoadResult> OnnxRuntimeBatchAsync(int rows, int callers)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = new InferenceSession(modelPath, options);
        var outputs = session.OutputNames.ToArray();
        var batch = Enumerable.Repeat(input, rows).SelectMany(row => row).ToArray();
        long[] batchShape = [rows, .. shape.AsSpan(1)];
        var result = await LoadRunner.RunAsync($"onnxruntime in-process, batch {rows}, {callers} callers (rows/s)", callers, Window, _ =>
        {
            using var runOptions = new RunOptions();
            using var value = OrtValue.CreateTensorValueFromMemory(batch, batchShape);
            using var results = session.Run(runOptions, [inputName], [value], outputs);
            return Task.FromResult(results.Count == outputs.Length);
        });
        return result with { RequestsPerSecond = result.RequestsPerSecond * rows };
    }

    /// <summary>The gRPC network-stack limit: a gRPC service answering a constant response as large as the model's.</summary>
    public async Task<LoadResult> GrpcConstantAsync()
    {
        await using var app = await StartGrpcConstantAsync();
        using var channel = GrpcChannel.ForAddress(Address(app));
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = GrpcRequest;
        return await LoadRunner.RunAsync("gRPC constant response", concurrency, Window, async token =>
        {
            var answer = await client.ModelInferAsync(request, cancellationToken: token);
            return answer.RawOutputContents.Count > 0;
        });
    }

    /// <summary>The network-stack limit: Kestrel answering a constant body.</summary>
    public async Task<LoadResult> KestrelConstantAsync()
    {
        await using var app = await StartKestrelConstantAsync();
        return await PostLoadAsync("kestrel constant body", Address(app) + "infer");
    }

    /// <summary>How a .NET user would serve the model without Turbine: System.Text.Json DTOs, NamedOnnxValue, default session options.</summary>
    public async Task<LoadResult> NaiveAspNetAsync()
    {
        using var session = new InferenceSession(modelPath);
        await using var app = await StartNaiveAsync(session);
        return await PostLoadAsync("naive ASP.NET + InferenceSession", Address(app) + "infer");
    }

    /// <summary>Starts the naive endpoint on <paramref name="session"/>, for load from here or from outside (wrk).</summary>
    public static Task<WebApplication> StartNaiveAsync(InferenceSession session) => MinimalAsync(web => web.MapPost("/infer", async context =>
    {
        var request = await JsonSerializer.DeserializeAsync(context.Request.Body, NaiveJson.Default.NaiveRequest);
        var tensorInput = request!.Inputs[0];
        var tensor = new DenseTensor<float>(tensorInput.Data, tensorInput.Shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(tensorInput.Name, tensor)]);
        var response = new NaiveResponse(results.Select(ToNaive).ToArray());
        await JsonSerializer.SerializeAsync(context.Response.Body, response, NaiveJson.Default.NaiveResponse);
    }));

    private static NaiveTensor ToNaive(DisposableNamedOnnxValue value) =>
        value.Value is Tensor<float> floats
            ? new NaiveTensor(value.Name, floats.Dimensions.ToArray().Select(d => (long)d).ToArray(), floats.ToArray())
            : new NaiveTensor(value.Name, value.AsTensor<long>().Dimensions.ToArray().Select(d => (long)d).ToArray(), value.AsTensor<long>().Select(v => (float)v).ToArray());

    /// <summary>Turbine over KServe REST with JSON tensors.</summary>
    public async Task<LoadResult> TurbineRestAsync()
    {
        await using var server = await StartTurbineAsync();
        return await PostLoadAsync("turbine REST (JSON)", $"http://127.0.0.1:{server.HttpPort}/v2/models/{model}/infer");
    }

    /// <summary>Turbine over KServe REST with the binary tensor extension (inputs and outputs).</summary>
    public async Task<LoadResult> TurbineRestBinaryAsync()
    {
        await using var server = await StartTurbineAsync();
        var header = Encoding.UTF8.GetBytes($$$"""{"inputs":[{"name":"{{{inputName}}}","shape":[{{{string.Join(",", shape)}}}],"datatype":"FP32","parameters":{"binary_data_size":{{{input.Length * 4}}}}}],"parameters":{"binary_data_output":true}}""");
        byte[] body = [.. header, .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan())];
        var headerLength = header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var url = $"http://127.0.0.1:{server.HttpPort}/v2/models/{model}/infer";
        return await LoadRunner.RunAsync("turbine REST (binary)", concurrency, Window, async token =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            message.Content.Headers.ContentType = new("application/octet-stream");
            message.Headers.Add("Inference-Header-Content-Length", headerLength);
            using var response = await Http.SendAsync(message, token);
            await response.Content.ReadAsByteArrayAsync(token);
            return response.StatusCode == HttpStatusCode.OK;
        });
    }

    /// <summary>Turbine over gRPC with raw tensor contents.</summary>
    public async Task<LoadResult> TurbineGrpcAsync()
    {
        await using var server = await StartTurbineAsync();
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.GrpcPort}");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var message = GrpcRequest;
        return await LoadRunner.RunAsync("turbine gRPC (raw)", concurrency, Window, async token =>
        {
            var response = await client.ModelInferAsync(message, cancellationToken: token);
            return response.RawOutputContents.Count > 0;
        });
    }

    public static TimeSpan Window { get; set; } = TimeSpan.FromSeconds(3);

    public Task<TurbineServer> StartTurbineAsync(bool metrics = false, Action<TurbineServerOptions>? configure = null) =>
        StartTurbineAsync(repository, metrics, configure);

    /// <summary>A server over <paramref name="folder"/> on loopback ports the system picks, logging warnings only.</summary>
    public static async Task<TurbineServer> StartTurbineAsync(string folder, bool metrics = false, Action<TurbineServerOptions>? configure = null)
    {
        var server = TurbineServer.Create(["--Logging:LogLevel:Default=Warning"], options =>
        {
            options.ModelRepository = folder;
            options.Host = "127.0.0.1";
            options.HttpPort = 0;
            options.GrpcPort = 0;
            options.MetricsPort = metrics ? 0 : -1;
            configure?.Invoke(options);
        });
        await server.StartAsync();
        return server;
    }

    private async Task<LoadResult> PostLoadAsync(string scenario, string url)
    {
        var body = Encoding.UTF8.GetBytes(JsonBody);
        return await LoadRunner.RunAsync(scenario, concurrency, Window, async token =>
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            using var response = await Http.PostAsync(url, content, token);
            await response.Content.ReadAsByteArrayAsync(token);
            return response.StatusCode == HttpStatusCode.OK;
        });
    }

    /// <summary>Starts a Kestrel endpoint answering a constant body, for load from outside (wrk).</summary>
    public static async Task<WebApplication> StartKestrelConstantAsync()
    {
        var body = Encoding.UTF8.GetBytes("""{"model_name":"x","model_version":"1","outputs":[]}""");
        return await MinimalAsync(web => web.MapPost("/infer", async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(body);
        }));
    }

    /// <summary>Starts the constant gRPC service, answering what the model would answer for one row.</summary>
    public async Task<WebApplication> StartGrpcConstantAsync()
    {
        var response = new ModelInferResponse { ModelName = model, ModelVersion = "1" };
        using (var session = new InferenceSession(modelPath))
        {
            using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [inputName], [value], session.OutputNames.ToArray());
            foreach (var (name, output) in session.OutputNames.Zip(results))
            {
                var info = output.GetTensorTypeAndShape();
                var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = name, Datatype = info.ElementDataType == TensorElementType.Int64 ? "INT64" : "FP32" };
                tensor.Shape.AddRange(info.Shape);
                response.Outputs.Add(tensor);
                response.RawOutputContents.Add(ByteString.CopyFrom(output.GetTensorDataAsSpan<byte>()));
            }
        }

        return await MinimalGrpcAsync(new ConstantInferenceService(response));
    }

    private static async Task<WebApplication> MinimalGrpcAsync(ConstantInferenceService service)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<ConstantInferenceService>();
        await app.StartAsync();
        return app;
    }

    public static string Address(WebApplication app) => app.Urls.First() + "/";

    private static async Task<WebApplication> MinimalAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }

}

internal sealed record NaiveTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] long[] Shape,
    [property: JsonPropertyName("data")] float[] Data);

internal sealed record NaiveRequest([property: JsonPropertyName("inputs")] NaiveTensor[] Inputs);

internal sealed record NaiveResponse([property: JsonPropertyName("outputs")] NaiveTensor[] Outputs);

[JsonSerializable(typeof(NaiveRequest))]
[JsonSerializable(typeof(NaiveResponse))]
internal sealed partial class NaiveJson : JsonSerializerContext;
