using Microsoft.AspNetCore.Http;

namespace Turbine.Server.Http;

/// <summary>
/// Triton's API groups, by which an operator restricts endpoints (<see cref="RestrictedApis"/>): every REST path and
/// gRPC method of the KServe and Triton protocols belongs to one. Prometheus metrics and the standard gRPC health
/// service (what probes call) belong to none.
/// </summary>
internal static class ApiGroups
{
    public const string Health = "health";
    public const string Metadata = "metadata";
    public const string Inference = "inference";
    public const string SharedMemory = "shared-memory";
    public const string ModelConfig = "model-config";
    public const string ModelRepository = "model-repository";
    public const string Statistics = "statistics";
    public const string Trace = "trace";
    public const string Logging = "logging";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Health, Metadata, Inference, SharedMemory, ModelConfig, ModelRepository, Statistics, Trace, Logging,
    };

    private const string GrpcService = "/inference.GRPCInferenceService/";

    /// <summary>The group of a request's path, or null for endpoints outside the protocols.</summary>
    public static string? Of(PathString path)
    {
        var value = path.Value ?? string.Empty;
        if (value.StartsWith(GrpcService, StringComparison.Ordinal))
        {
            return OfGrpcMethod(value[GrpcService.Length..]);
        }

        if (!path.StartsWithSegments("/v2", StringComparison.Ordinal, out var rest))
        {
            return null;
        }

        var segments = (rest.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length == 0 ? Metadata : segments[0] switch
        {
            "health" => Health,
            "repository" => ModelRepository,
            "logging" => Logging,
            "trace" => Trace,
            "systemsharedmemory" or "cudasharedmemory" => SharedMemory,
            "models" => OfModelPath(segments),
            _ => null,
        };
    }

    /// <summary><c>models/{m}[/versions/{v}][/suffix]</c>, and <c>models/stats</c>, as path segments.</summary>
    private static string? OfModelPath(string[] segments)
    {
        if (segments.Length == 2 && segments[1] == "stats")
        {
            return Statistics;
        }

        var suffix = segments.Length > 3 && segments[2] == "versions" ? segments[4..] : segments[2..];
        return suffix switch
        {
            [] => Metadata,
            ["ready"] => Health,
            ["config"] => ModelConfig,
            ["stats"] => Statistics,
            ["infer"] => Inference,
            ["trace", "setting"] => Trace,
            _ => null,
        };
    }

    private static string? OfGrpcMethod(string method) => method switch
    {
        "ServerLive" or "ServerReady" or "ModelReady" => Health,
        "ServerMetadata" or "ModelMetadata" => Metadata,
        "ModelInfer" or "ModelStreamInfer" => Inference,
        "ModelConfig" => ModelConfig,
        "ModelStatistics" => Statistics,
        "RepositoryIndex" or "RepositoryModelLoad" or "RepositoryModelUnload" => ModelRepository,
        "TraceSetting" => Trace,
        "LogSettings" => Logging,
        _ when method.Contains("SharedMemory", StringComparison.Ordinal) => SharedMemory,
        _ => null,
    };
}
