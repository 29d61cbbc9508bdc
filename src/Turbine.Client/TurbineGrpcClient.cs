using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Turbine.Protocols.Grpc;

namespace Turbine.Client;

/// <summary>A client of the <c>inference.GRPCInferenceService</c> service. Tensors travel as raw contents.</summary>
public sealed class TurbineGrpcClient : ITurbineClient
{
    private readonly GrpcChannel _channel;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client;

    /// <summary>Creates a client for <paramref name="address"/>, e.g. <c>http://localhost:8001</c>.</summary>
    public TurbineGrpcClient(Uri address, string? managementToken = null)
        : this(address, handler: null, managementToken)
    {
    }

    /// <summary>
    /// Creates a client whose channel sends through <paramref name="handler"/> (keep-alive pings, several HTTP/2
    /// connections, a proxy); the client owns it.
    /// </summary>
    public TurbineGrpcClient(Uri address, HttpMessageHandler? handler, string? managementToken = null)
    {
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            MaxSendMessageSize = 64 * 1024 * 1024,
            HttpHandler = handler,
            DisposeHttpClient = true,
        });
        _client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        ManagementToken = managementToken;
    }

    /// <summary>The bearer token sent with repository calls, if any.</summary>
    public string? ManagementToken { get; set; }

    /// <summary>The generated client, for calls this SDK does not wrap (e.g. ModelStreamInfer).</summary>
    public GRPCInferenceService.GRPCInferenceServiceClient Raw => _client;

    /// <inheritdoc />
    public async Task<bool> IsServerLiveAsync(CancellationToken cancellationToken = default) =>
        (await Call(() => _client.ServerLiveAsync(new ServerLiveRequest(), cancellationToken: cancellationToken))).Live;

    /// <inheritdoc />
    public async Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default) =>
        (await Call(() => _client.ServerReadyAsync(new ServerReadyRequest(), cancellationToken: cancellationToken))).Ready;

    /// <inheritdoc />
    public async Task<bool> IsModelReadyAsync(string model, string? version = null, CancellationToken cancellationToken = default) =>
        (await Call(() => _client.ModelReadyAsync(new ModelReadyRequest { Name = model, Version = version ?? string.Empty }, cancellationToken: cancellationToken))).Ready;

    /// <inheritdoc />
    public async Task<ServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default)
    {
        var response = await Call(() => _client.ServerMetadataAsync(new ServerMetadataRequest(), cancellationToken: cancellationToken));
        return new ServerMetadata(response.Name, response.Version, [.. response.Extensions]);
    }

    /// <inheritdoc />
    public async Task<ModelMetadata> GetModelMetadataAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        var response = await Call(() => _client.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version ?? string.Empty }, cancellationToken: cancellationToken));
        return new ModelMetadata(response.Name, [.. response.Versions], response.Platform, Tensors(response.Inputs), Tensors(response.Outputs));
    }

    /// <inheritdoc />
    public async Task<string> GetModelConfigJsonAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        var response = await Call(() => _client.ModelConfigAsync(new ModelConfigRequest { Name = model, Version = version ?? string.Empty }, cancellationToken: cancellationToken));
        return JsonFormatter.Default.Format(response.Config);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ModelStatisticsSummary>> GetModelStatisticsAsync(string? model = null, string? version = null, CancellationToken cancellationToken = default)
    {
        var response = await Call(() => _client.ModelStatisticsAsync(
            new ModelStatisticsRequest { Name = model ?? string.Empty, Version = version ?? string.Empty }, cancellationToken: cancellationToken));
        return response.ModelStats.Select(s => new ModelStatisticsSummary(
            s.Name, s.Version, (long)s.InferenceCount, (long)s.ExecutionCount,
            (long)s.InferenceStats.Success.Count, (long)s.InferenceStats.Success.Ns, (long)s.InferenceStats.Fail.Count,
            (long)s.InferenceStats.Queue.Ns, (long)s.InferenceStats.ComputeInfer.Ns)).ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RepositoryModel>> GetRepositoryIndexAsync(bool readyOnly = false, CancellationToken cancellationToken = default)
    {
        var response = await Call(() => _client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = readyOnly }, ManagementHeaders(), cancellationToken: cancellationToken));
        return response.Models.Select(m => new RepositoryModel(m.Name, m.Version.Length == 0 ? null : m.Version, m.State, m.Reason)).ToList();
    }

    /// <inheritdoc />
    public async Task LoadModelAsync(string model, CancellationToken cancellationToken = default) =>
        await Call(() => _client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = model }, ManagementHeaders(), cancellationToken: cancellationToken));

    /// <inheritdoc />
    public async Task UnloadModelAsync(string model, CancellationToken cancellationToken = default) =>
        await Call(() => _client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = model }, ManagementHeaders(), cancellationToken: cancellationToken));

    /// <inheritdoc />
    public async Task<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        var message = ToMessage(request);
        var response = await Call(() => _client.ModelInferAsync(message, cancellationToken: cancellationToken));
        return FromMessage(response);
    }

    /// <summary>Builds the gRPC message for a request (raw input contents).</summary>
    public static ModelInferRequest ToMessage(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var message = new ModelInferRequest { ModelName = request.ModelName, ModelVersion = request.ModelVersion ?? string.Empty, Id = request.Id ?? string.Empty };
        GrpcInferenceMapper.AddParameters(message.Parameters, request.Parameters);
        foreach (var input in request.Inputs)
        {
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = input.DataType.ToWireName() };
            tensor.Shape.AddRange(input.Shape);
            message.Inputs.Add(tensor);
            message.RawInputContents.Add(ByteString.CopyFrom(input.Data.Span));
        }

        foreach (var output in request.Outputs)
        {
            message.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = output.Name });
        }

        return message;
    }

    /// <summary>Reads a gRPC response into tensors.</summary>
    public static InferenceResponse FromMessage(ModelInferResponse message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var response = new InferenceResponse
        {
            ModelName = message.ModelName,
            ModelVersion = message.ModelVersion,
            Id = message.Id.Length == 0 ? null : message.Id,
            Parameters = GrpcInferenceMapper.ToParameters(message.Parameters),
        };
        for (var i = 0; i < message.Outputs.Count; i++)
        {
            var output = message.Outputs[i];
            var type = DataTypes.TryParse(output.Datatype, out var parsed) ? parsed : DataType.Invalid;
            var data = i < message.RawOutputContents.Count ? TensorBuffer.CopyOf(message.RawOutputContents[i].Span) : TensorBuffer.Empty;
            response.Outputs.Add(new Tensor(output.Name, type, [.. output.Shape], data));
        }

        return response;
    }

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();

    private Metadata? ManagementHeaders() =>
        string.IsNullOrEmpty(ManagementToken) ? null : new Metadata { { "authorization", "Bearer " + ManagementToken } };

    private static async Task<T> Call<T>(Func<AsyncUnaryCall<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e)
        {
            throw new TurbineClientException(FromGrpc(e.StatusCode), e.Status.Detail);
        }
    }

    private static StatusCode FromGrpc(global::Grpc.Core.StatusCode code) => code switch
    {
        global::Grpc.Core.StatusCode.InvalidArgument => StatusCode.InvalidArgument,
        global::Grpc.Core.StatusCode.NotFound => StatusCode.NotFound,
        global::Grpc.Core.StatusCode.Unavailable => StatusCode.Unavailable,
        global::Grpc.Core.StatusCode.ResourceExhausted => StatusCode.ResourceExhausted,
        global::Grpc.Core.StatusCode.DeadlineExceeded => StatusCode.DeadlineExceeded,
        global::Grpc.Core.StatusCode.Cancelled => StatusCode.Cancelled,
        global::Grpc.Core.StatusCode.Unauthenticated => StatusCode.Unauthenticated,
        global::Grpc.Core.StatusCode.PermissionDenied => StatusCode.PermissionDenied,
        global::Grpc.Core.StatusCode.FailedPrecondition => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    private static List<TensorMetadata> Tensors(IEnumerable<ModelMetadataResponse.Types.TensorMetadata> tensors) =>
        tensors.Select(t => new TensorMetadata(t.Name, DataTypes.TryParse(t.Datatype, out var type) ? type : DataType.Invalid, [.. t.Shape])).ToList();
}
