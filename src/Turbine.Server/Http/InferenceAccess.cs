using Microsoft.Extensions.Options;
using Turbine.Server.Hosting;

namespace Turbine.Server.Http;

/// <summary>
/// API keys for the model endpoints of both protocols. Keys are kept as SHA-256 digests and a presented key is
/// compared with every configured digest in constant time, so neither a key's content nor its position leaks through
/// timing. An unknown key is 401; a known key that does not cover the model is 403.
/// </summary>
public sealed class InferenceAccess
{
    private readonly KeyEntry[] _keys;

    /// <summary>Reads the keys (inline or from files) of <paramref name="options"/>.</summary>
    public InferenceAccess(IOptions<TurbineServerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _keys = [.. options.Value.ApiKeys.Select((k, i) => new KeyEntry(
            SecretDigest.Of(ReadKey(k)),
            k.Models.Count == 0 ? null : new HashSet<string>(k.Models, StringComparer.Ordinal),
            new Core.Observation.UsageAccount(k.Name is { Length: > 0 } name ? name : $"key-{i + 1}", null)))];
    }

    /// <summary>Whether any key is configured; without keys every model endpoint is open.</summary>
    public bool Enabled => _keys.Length > 0;

    /// <summary>Checks an <c>Authorization</c> header value for <paramref name="model"/> (null: every model).</summary>
    public InferenceError? Check(string? authorization, string? model) => Check(authorization, model, out _);

    /// <summary>Checks an <c>Authorization</c> header value, and tells the account (the key's name) its requests are billed to.</summary>
    public InferenceError? Check(string? authorization, string? model, out Core.Observation.UsageAccount? account)
    {
        account = null;
        if (!Enabled)
        {
            return null;
        }

        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length == 7)
        {
            return new InferenceError(StatusCode.Unauthenticated, "this server needs an API key: send 'Authorization: Bearer <key>'");
        }

        var presented = authorization.AsSpan(7).Trim();
        KeyEntry? match = null;
        foreach (var key in _keys)
        {
            if (key.Digest.Matches(presented))
            {
                match = key; // no early exit: every key is compared, whichever matches
            }
        }

        if (match is null)
        {
            return new InferenceError(StatusCode.Unauthenticated, "the API key is not valid");
        }

        account = match.Account;
        return match.Models is null || (model is not null && match.Models.Contains(model))
            ? null
            : new InferenceError(StatusCode.PermissionDenied, model is null
                ? "this API key is limited to some models, and this endpoint covers every model (ask for one model's statistics instead)"
                : $"this API key does not cover model '{ClientText.Quote(model)}'");
    }

    private static string ReadKey(ApiKeyOptions key)
    {
        var value = key.KeyFile is { Length: > 0 } file ? File.ReadAllText(file).TrimEnd() : key.Key;
        return string.IsNullOrEmpty(value) || value.Length < 16
            ? throw new OptionsValidationException(TurbineServerOptions.Section, typeof(ApiKeyOptions), ["every API key needs Key or KeyFile with at least 16 characters"])
            : value;
    }

    private sealed record KeyEntry(SecretDigest Digest, HashSet<string>? Models, Core.Observation.UsageAccount Account);
}
