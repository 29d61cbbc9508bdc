using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Turbine.Server.Hosting;

namespace Turbine.Server.Http;

/// <summary>
/// Guards the repository (control-plane) endpoints (SECURITY.md A1): off when disabled; with a token configured,
/// only <c>Authorization: Bearer &lt;token&gt;</c> passes (compared as digests in constant time, so neither its
/// content nor its length leaks; never read from the query string); without one, only loopback clients pass.
/// </summary>
internal sealed class ManagementAccess(IOptions<TurbineServerOptions> options)
{
    private readonly ManagementOptions _options = options.Value.Management;
    private readonly SecretDigest? _token = options.Value.Management.EffectiveToken() is { Length: > 0 } token ? SecretDigest.Of(token) : null;

    /// <summary>
    /// Whether the dashboard's page itself may be served: management on, and either a token configured (the page holds
    /// no data; every call it makes needs the token) or a loopback client.
    /// </summary>
    public InferenceError? CheckPage(HttpContext context) => _options.Enabled && _token is not null ? null : Check(context);

    public InferenceError? Check(HttpContext context)
    {
        if (!_options.Enabled)
        {
            return new InferenceError(StatusCode.PermissionDenied, "the repository API is disabled on this server");
        }

        if (_token is null)
        {
            var remote = context.Connection.RemoteIpAddress;
            return remote is not null && System.Net.IPAddress.IsLoopback(remote)
                ? null
                : new InferenceError(StatusCode.PermissionDenied, "the repository API accepts only loopback clients unless a management token is configured");
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return new InferenceError(StatusCode.Unauthenticated, "the repository API needs 'Authorization: Bearer <token>'");
        }

        return _token.Matches(header.AsSpan(7).Trim())
            ? null
            : new InferenceError(StatusCode.PermissionDenied, "the management token is not valid");
    }
}
