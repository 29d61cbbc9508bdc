namespace Turbine.Cli.Commands;

/// <summary>
/// Settings given on the command line beside the flags, in .NET's configuration form: <c>--Turbine:HttpPort=9000</c>
/// or <c>--Turbine:HttpPort 9000</c> (any <c>Section:Key</c>, so <c>--Logging:LogLevel:Default=Debug</c> too).
/// </summary>
internal static class ConfigurationArguments
{
    /// <summary>Sorts the tokens the flags did not take into settings for the host's configuration.</summary>
    /// <returns>The first token that is not part of a setting, or null when every one is.</returns>
    public static string? Find(IReadOnlyList<string> tokens, out List<string> settings)
    {
        settings = [];
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? token : token[..equals];
            if (!key.StartsWith("--", StringComparison.Ordinal) || key.Length < 5 || !key.Contains(':', StringComparison.Ordinal))
            {
                return token;
            }

            if (equals >= 0)
            {
                settings.Add(token);
            }
            else if (i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                settings.Add(token + "=" + tokens[++i]);
            }
            else
            {
                return token; // a key without a value
            }
        }

        return null;
    }
}
