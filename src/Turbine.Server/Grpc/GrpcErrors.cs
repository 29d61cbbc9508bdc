using Grpc.Core;

namespace Turbine.Server.Grpc;

/// <summary>Maps <see cref="StatusCode"/> to gRPC status codes, exactly once.</summary>
internal static class GrpcErrors
{
    public static RpcException ToRpcException(InferenceError error) => new(new Status(ToGrpcCode(error.Code), error.Message));

    public static global::Grpc.Core.StatusCode ToGrpcCode(StatusCode code) => code switch
    {
        StatusCode.Ok => global::Grpc.Core.StatusCode.OK,
        StatusCode.InvalidArgument => global::Grpc.Core.StatusCode.InvalidArgument,
        StatusCode.NotFound => global::Grpc.Core.StatusCode.NotFound,
        StatusCode.Unavailable => global::Grpc.Core.StatusCode.Unavailable,
        StatusCode.ResourceExhausted => global::Grpc.Core.StatusCode.ResourceExhausted,
        StatusCode.DeadlineExceeded => global::Grpc.Core.StatusCode.DeadlineExceeded,
        StatusCode.Cancelled => global::Grpc.Core.StatusCode.Cancelled,
        StatusCode.Unauthenticated => global::Grpc.Core.StatusCode.Unauthenticated,
        StatusCode.PermissionDenied => global::Grpc.Core.StatusCode.PermissionDenied,
        StatusCode.FailedPrecondition => global::Grpc.Core.StatusCode.FailedPrecondition,
        _ => global::Grpc.Core.StatusCode.Internal,
    };
}
