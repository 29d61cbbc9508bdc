using System.Reflection;

namespace Turbine.Server.Hosting;

/// <summary>The server version reported by <c>GET /v2</c> and ServerMetadata.</summary>
internal static class ServerVersion
{
    public static string Value { get; } =
        typeof(ServerVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.1.0";
}
