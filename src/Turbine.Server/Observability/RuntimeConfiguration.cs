using Microsoft.Extensions.Configuration;

namespace Turbine.Server.Observability;

/// <summary>
/// The last configuration source of the host: values set while the server runs (the logging extension's level and
/// format), which win over the files and the command line and reach the options that watch them through a reload.
/// </summary>
internal sealed class RuntimeConfiguration : ConfigurationProvider, IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Sets (or, with null, removes) each key, then tells the watchers once.</summary>
    public void Apply(IReadOnlyDictionary<string, string?> values)
    {
        foreach (var (key, value) in values)
        {
            if (value is null)
            {
                Data.Remove(key);
            }
            else
            {
                Data[key] = value;
            }
        }

        OnReload();
    }
}
