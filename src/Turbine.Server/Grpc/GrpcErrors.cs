using Grpc.Core;

namespace Turbine.Server.Grpc;

/// <summary>Maps <see cref="StatusCode"/> to gRPC status codes, exactly once.</summary>
internal static class GrpcErrors
{
    public static RpcException ToRpcException(InferenceError error) => new(new Status(ToGrpcCode(error.Code), error.Message));

    public static Status ToStatus(InferenceError error) => new(ToGrpcCode(error.Code), error.Message);

    /// <summary>
    /// Answers a gRPC call with a status and no message before its request body is read: a "Trailers-Only" response,
    /// whose one header block carries <c>grpc-status</c> and <c>grpc-message</c> (the gRPC over HTTP/2 spec).
    /// </summary>
    public static Task WriteTrailersOnlyAsync(Microsoft.AspNetCore.Http.HttpContext context, InferenceError error)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)ToGrpcCode(error.Code)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncode(error.Message);
        return Task.CompletedTask;
    }

    /// <summary>grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself.</summary>
    private static string PercentEncode(string message)
    {
        var builder = new System.Text.StringBuilder(message.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

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
