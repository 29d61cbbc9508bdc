using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Observation;
using Turbine.Protocols;
using Turbine.Protocols.Grpc;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;
using Turbine.Server.Http;
using Turbine.Traffic;

namespace Turbine.Server.Grpc;

/// <summary>The <c>inference.GRPCInferenceService</c> service: KServe v2 plus Triton's repository, config and statistics extensions.</summary>
internal sealed class InferenceGrpcService(
    InferenceService inference,
    ModelControl control,
    ServerReadiness readiness,
    ManagementAccess access,
    InferenceAccess apiKeys,
    TraceSettings traces,
    Observability.LoggingSettings logging,
    IOptions<TurbineServerOptions> options,
    SharedMemory.SystemSharedMemory? sharedMemory = null) : GRPCInferenceService.GRPCInferenceServiceBase
{
    /// <summary>The message of a refused unary call; the client sees only its status.</summary>
    private static readonly ModelInferResponse NoAnswer = new();

    private readonly KServeLimits _limits = new(options.Value.MaxRequestBodyBytes, options.Value.MaxJsonDepth);

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = readiness.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        RequireKey(context, request.Name);
        var error = inference.TryGetModel(request.Name, request.Version, out _);
        return error is { Code: StatusCode.NotFound }
            ? throw GrpcErrors.ToRpcException(error)
            : Task.FromResult(new ModelReadyResponse { Ready = error is null });
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var response = new ServerMetadataResponse { Name = "turbine", Version = ServerVersion.Value };
        response.Extensions.AddRange(KServeHttpEndpoints.ExtensionsOf(options.Value));
        return Task.FromResult(response);
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        RequireKey(context, request.Name);
        return Task.FromResult(GrpcModelMapper.ToMetadata(Model(request.Name, request.Version)));
    }

    public override Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context)
    {
        RequireKey(context, request.Name);
        return Task.FromResult(new ModelConfigResponse { Config = GrpcModelMapper.ToConfig(Model(request.Name, request.Version).Config) });
    }

    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context)
    {
        RequireKey(context, string.IsNullOrEmpty(request.Name) ? null : request.Name);
        var error = inference.Statistics(request.Name, request.Version, out var stats);
        return error is null ? Task.FromResult(GrpcModelMapper.ToStatistics(stats)) : throw GrpcErrors.ToRpcException(error);
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var (response, error) = await InferAsync(request, context.RequestHeaders.GetValue("authorization"), context.RequestHeaders, context.CancellationToken);
        if (error is null)
        {
            return response!;
        }

        // A refusal is a status, not a thrown exception: refusing is what an overloaded server does most. With a
        // non-OK status the client reports the status and discards the (empty) message.
        context.Status = GrpcErrors.ToStatus(error);
        return NoAnswer;
    }

    private const string FinalResponseParameter = "triton_final_response";

    public override async Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context)
    {
        // Triton's streaming contract: an error answers that one request in error_message; the stream goes on.
        using var answers = new StreamAnswers(responseStream, context.CancellationToken);
        var authorization = context.RequestHeaders.GetValue("authorization");
        Func<ModelInferRequest, Task<ModelStreamInferResponse>> answer = message => AnswerStreamedAsync(message, authorization, context); // one per stream
        try
        {
            await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await answers.StartAsync(request, answer);
            }
        }
        finally
        {
            await answers.DrainAsync(); // the call ends only once every answer started is written (or the client is gone)
        }
    }

    private async Task<ModelStreamInferResponse> AnswerStreamedAsync(ModelInferRequest message, string? authorization, ServerCallContext context)
    {
        var (response, error) = await InferAsync(message, authorization, context.RequestHeaders, context.CancellationToken);
        var answer = error is null
            ? new ModelStreamInferResponse { InferResponse = response }
            : new ModelStreamInferResponse { ErrorMessage = error.Message, InferResponse = new ModelInferResponse { Id = message.Id, ModelName = message.ModelName, ModelVersion = message.ModelVersion } };

        // Every model answers a request once, so each answer is its request's last: Triton's clients read this flag to
        // know a request is done (decoupled models, which answer many times, would send false before the last).
        answer.InferResponse.Parameters[FinalResponseParameter] = new InferParameter { BoolParam = true };
        return answer;
    }

    public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context)
    {
        // Read-only, as model metadata is: no management token (an API key, when configured, is checked in front).
        return Task.FromResult(GrpcModelMapper.ToIndex(inference.Index(request.Ready)));
    }

    public override async Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context)
    {
        Authorize(context);
        var model = ModelNameOf(request.ModelName, request.RepositoryName);
        var error = LoadParameters(request, out var config, out var files) ?? await control.LoadAsync(model, config, files, context.CancellationToken);
        return error is null ? new RepositoryModelLoadResponse { ModelName = model, IsLoaded = true } : throw GrpcErrors.ToRpcException(error);
    }

    public override async Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context)
    {
        Authorize(context);
        var model = ModelNameOf(request.ModelName, request.RepositoryName);
        var error = await control.UnloadAsync(model, context.CancellationToken);
        return error is null ? new RepositoryModelUnloadResponse { ModelName = model, IsUnloaded = true } : throw GrpcErrors.ToRpcException(error);
    }

    public override Task<TraceSettingResponse> TraceSetting(TraceSettingRequest request, ServerCallContext context)
    {
        var model = request.ModelName.Length > 0 ? request.ModelName : null;
        if (model is not null && inference.TryGetModel(model, null, out _) is { } missing)
        {
            throw GrpcErrors.ToRpcException(missing);
        }

        if (request.Settings.Count > 0)
        {
            Authorize(context);
            var changes = request.Settings.ToDictionary(s => s.Key, s => s.Value.Value.Count == 0 ? null : (IReadOnlyList<string>?)[.. s.Value.Value]);
            if (traces.Update(model, changes) is { } refused)
            {
                throw GrpcErrors.ToRpcException(refused);
            }
        }

        var response = new TraceSettingResponse();
        foreach (var (name, values) in traces.Describe(model))
        {
            var value = new TraceSettingResponse.Types.SettingValue();
            value.Value.AddRange(values);
            response.Settings[name] = value;
        }

        return Task.FromResult(response);
    }

    public override Task<LogSettingsResponse> LogSettings(LogSettingsRequest request, ServerCallContext context)
    {
        if (request.Settings.Count > 0)
        {
            Authorize(context);
            var changes = request.Settings.ToDictionary(s => s.Key, s => s.Value.ParameterChoiceCase switch
            {
                LogSettingsRequest.Types.SettingValue.ParameterChoiceOneofCase.BoolParam => (object)s.Value.BoolParam,
                LogSettingsRequest.Types.SettingValue.ParameterChoiceOneofCase.Uint32Param => (int)Math.Min(s.Value.Uint32Param, int.MaxValue),
                _ => s.Value.StringParam,
            });
            if (logging.Update(changes) is { } refused)
            {
                throw GrpcErrors.ToRpcException(refused);
            }
        }

        var response = new LogSettingsResponse();
        foreach (var (name, value) in logging.Describe())
        {
            response.Settings[name] = value switch
            {
                bool flag => new LogSettingsResponse.Types.SettingValue { BoolParam = flag },
                int number => new LogSettingsResponse.Types.SettingValue { Uint32Param = (uint)number },
                _ => new LogSettingsResponse.Types.SettingValue { StringParam = (string)value },
            };
        }

        return Task.FromResult(response);
    }

    public override Task<SystemSharedMemoryStatusResponse> SystemSharedMemoryStatus(SystemSharedMemoryStatusRequest request, ServerCallContext context)
    {
        var memory = SharedMemoryOrRefuse(context);
        var name = request.Name.Length > 0 ? request.Name : null;
        var regions = memory.Status(name);
        if (name is not null && regions.Count == 0)
        {
            throw GrpcErrors.ToRpcException(InferenceError.NotFound($"Unable to find system shared memory region: '{ClientText.Quote(name)}'"));
        }

        var response = new SystemSharedMemoryStatusResponse();
        foreach (var region in regions)
        {
            response.Regions[region.Name] = new SystemSharedMemoryStatusResponse.Types.RegionStatus
            {
                Name = region.Name, Key = region.Key, Offset = (ulong)region.Offset, ByteSize = (ulong)region.ByteSize,
            };
        }

        return Task.FromResult(response);
    }

    public override Task<SystemSharedMemoryRegisterResponse> SystemSharedMemoryRegister(SystemSharedMemoryRegisterRequest request, ServerCallContext context)
    {
        var memory = SharedMemoryOrRefuse(context);
        var error = request.Offset > long.MaxValue || request.ByteSize > long.MaxValue
            ? InferenceError.Invalid("offset and byte_size must fit a signed 64-bit integer")
            : memory.Register(request.Name, request.Key, (long)request.Offset, (long)request.ByteSize);
        return error is null ? Task.FromResult(new SystemSharedMemoryRegisterResponse()) : throw GrpcErrors.ToRpcException(error);
    }

    public override Task<SystemSharedMemoryUnregisterResponse> SystemSharedMemoryUnregister(SystemSharedMemoryUnregisterRequest request, ServerCallContext context)
    {
        SharedMemoryOrRefuse(context).Unregister(request.Name.Length > 0 ? request.Name : null);
        return Task.FromResult(new SystemSharedMemoryUnregisterResponse());
    }

    public override Task<CudaSharedMemoryStatusResponse> CudaSharedMemoryStatus(CudaSharedMemoryStatusRequest request, ServerCallContext context) =>
        throw GrpcErrors.ToRpcException(Http.SharedMemoryEndpoints.CudaUnsupported);

    public override Task<CudaSharedMemoryRegisterResponse> CudaSharedMemoryRegister(CudaSharedMemoryRegisterRequest request, ServerCallContext context) =>
        throw GrpcErrors.ToRpcException(Http.SharedMemoryEndpoints.CudaUnsupported);

    public override Task<CudaSharedMemoryUnregisterResponse> CudaSharedMemoryUnregister(CudaSharedMemoryUnregisterRequest request, ServerCallContext context) =>
        throw GrpcErrors.ToRpcException(Http.SharedMemoryEndpoints.CudaUnsupported);

    /// <summary>The shared-memory registry when the extension is on and the caller passes the management rules.</summary>
    private SharedMemory.SystemSharedMemory SharedMemoryOrRefuse(ServerCallContext context)
    {
        if (sharedMemory is null)
        {
            throw GrpcErrors.ToRpcException(Http.SharedMemoryEndpoints.Disabled);
        }

        Authorize(context);
        return sharedMemory;
    }

    /// <summary>Triton's model_name (field 2), or KServe's (field 1, which Triton's numbering calls repository_name).</summary>
    private static string ModelNameOf(string tritonField, string kserveField) => tritonField.Length > 0 ? tritonField : kserveField;

    /// <summary>Checks the caller's key against the model the message names, then decodes and runs it; every refusal is a value.</summary>
    private async Task<(ModelInferResponse? Response, InferenceError? Error)> InferAsync(ModelInferRequest message, string? authorization, Metadata headers, CancellationToken cancellationToken)
    {
        if (apiKeys.Check(authorization, message.ModelName) is { } denied)
        {
            return (null, denied);
        }

        if (readiness.IsStopping)
        {
            return (null, ServerReadiness.ShuttingDown);
        }

        using var span = traces.ShouldTrace(message.ModelName) ? TurbineTracing.StartInfer(message.ModelName, "grpc", headers.GetValue("traceparent"), headers.GetValue("tracestate")) : null;
        InferenceError? error;
        InferenceRequest? request;
        using (TurbineTracing.StartStep("turbine.decode"))
        {
            error = GrpcInferenceMapper.FromGrpc(message, _limits, out request, inference.InputCheckFor(message.ModelName, message.ModelVersion), sharedMemory);
        }

        if (error is not null)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, error.Code.ToString());
            return (null, error);
        }

        using (request)
        {
            if (inference.StickyHeaderOf(request!.ModelName) is { } header && headers.GetValue(header.ToLowerInvariant()) is { } key)
            {
                request.RoutingKey = key; // gRPC metadata keys are lower case
            }

            var result = await inference.InferAsync(request, cancellationToken);
            if (result.Error is not null)
            {
                span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.Error.Code.ToString());
                return (null, result.Error);
            }

            using var response = result.Response!;
            if (SharedMemoryOutputs.Place(response, request.Outputs, sharedMemory, out var places) is { } unplaced)
            {
                return (null, unplaced);
            }

            using (TurbineTracing.StartStep("turbine.encode"))
            {
                return (GrpcInferenceMapper.ToGrpc(response, places), null);
            }
        }
    }

    /// <summary>Triton's load parameters: <c>config</c> (a string of JSON) and <c>file:&lt;path&gt;</c> (the file's bytes).</summary>
    private static InferenceError? LoadParameters(RepositoryModelLoadRequest request, out string? config, out List<ModelFileUpload> files)
    {
        config = null;
        files = [];
        foreach (var (name, value) in request.Parameters)
        {
            if (name == "config" && value.ParameterChoiceCase == ModelRepositoryParameter.ParameterChoiceOneofCase.StringParam)
            {
                config = value.StringParam;
            }
            else if (name.StartsWith(RepositoryJson.FilePrefix, StringComparison.Ordinal) && value.ParameterChoiceCase == ModelRepositoryParameter.ParameterChoiceOneofCase.BytesParam)
            {
                files.Add(new ModelFileUpload(name[RepositoryJson.FilePrefix.Length..], value.BytesParam.Memory));
            }
            else
            {
                return InferenceError.Invalid($"unsupported load parameter '{ClientText.Quote(name)}'; 'config' (a string) and 'file:<path>' (bytes) are supported");
            }
        }

        return null;
    }

    private ModelVersionInfo Model(string name, string version)
    {
        var error = inference.TryGetModel(name, version, out var info);
        return error is null ? info! : throw GrpcErrors.ToRpcException(error);
    }

    private void RequireKey(ServerCallContext context, string? model)
    {
        var error = apiKeys.Check(context.RequestHeaders.GetValue("authorization"), model);
        if (error is not null)
        {
            throw GrpcErrors.ToRpcException(error);
        }
    }

    private void Authorize(ServerCallContext context)
    {
        var error = access.Check(context.GetHttpContext());
        if (error is not null)
        {
            throw GrpcErrors.ToRpcException(error);
        }
    }
}
