using System.Net.Http;
using Turbine.Client;

namespace Turbine.Remote;

/// <summary>
/// The client a remote version speaks through: one pooled HTTP/2 (gRPC) or HTTP/1.1 (REST) handler, its connections
/// kept alive with pings while idle, so that requests reuse them instead of paying a handshake each.
/// </summary>
internal static class RemoteConnection
{
    public static ITurbineClient Open(RemoteTarget target)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true, // past a connection's stream limit, another connection rather than a wait
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        return target.Protocol == "rest"
            ? new TurbineHttpClient(new HttpClient(handler) { BaseAddress = target.Url, Timeout = Timeout.InfiniteTimeSpan })
            : new TurbineGrpcClient(target.Url, handler);
    }
}
