using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Turbine.Server.Hosting;

namespace Turbine.Server.Http;

/// <summary>
/// Triton's restricted APIs (<c>--http-restricted-api</c>, <c>--grpc-restricted-protocol</c>): each restriction
/// (<c>model-repository,statistics:admin-key=s3cret</c>) makes the API groups it names answer only requests that
/// carry that header (gRPC: metadata entry) with that value, compared as a digest in constant time; the others get
/// 403 with Triton's words. It runs before any body is read.
/// </summary>
internal sealed class RestrictedApis
{
    private readonly Dictionary<string, Restriction> _byGroup = new(StringComparer.Ordinal);

    public RestrictedApis(IOptions<TurbineServerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var text in options.Value.RestrictedApi)
        {
            if (TryParse(text, out var groups, out var header, out var value, out _))
            {
                var restriction = new Restriction(header!, SecretDigest.Of(value!));
                foreach (var group in groups!)
                {
                    _byGroup[group] = restriction;
                }
            }
        }
    }

    /// <summary>
    /// Reads <c>&lt;api&gt;[,&lt;api&gt;...]:&lt;header&gt;=&lt;value&gt;</c>; false with <paramref name="error"/>
    /// saying what is wrong.
    /// </summary>
    public static bool TryParse(string text, out string[]? groups, out string? header, out string? value, out string? error)
    {
        (groups, header, value, error) = (null, null, null, null);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var equals = colon < 0 ? -1 : text.IndexOf('=', colon);
        if (colon <= 0 || equals <= colon + 1 || equals == text.Length - 1)
        {
            error = $"RestrictedApi '{text}' must read '<api>[,<api>...]:<header>=<value>'";
            return false;
        }

        groups = text[..colon].Split(',', StringSplitOptions.TrimEntries);
        header = text[(colon + 1)..equals].Trim();
        value = text[(equals + 1)..];
        if (groups.FirstOrDefault(g => !ApiGroups.All.Contains(g)) is { } unknown)
        {
            error = $"RestrictedApi names '{unknown}', which is not one of {string.Join(", ", ApiGroups.All)}";
            return false;
        }

        if (header.Length == 0 || header.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_'))
        {
            error = $"RestrictedApi header '{header}' must be letters, digits, '-' or '_'";
            return false;
        }

        return true;
    }

    /// <summary>Whether no API group is restricted.</summary>
    public bool IsEmpty => _byGroup.Count == 0;

    /// <summary>Why the request may not call its API group, or null when it may (or the group is not restricted).</summary>
    public InferenceError? Check(HttpContext context)
    {
        if (_byGroup.Count == 0 || ApiGroups.Of(context.Request.Path) is not { } group || !_byGroup.TryGetValue(group, out var restriction))
        {
            return null;
        }

        var presented = context.Request.Headers[restriction.Header];
        return presented.Count == 1 && restriction.Value.Matches(presented[0]) ? null
            : new InferenceError(StatusCode.PermissionDenied, $"This API is restricted, expecting header '{restriction.Header}'");
    }

    private sealed record Restriction(string Header, SecretDigest Value);
}
