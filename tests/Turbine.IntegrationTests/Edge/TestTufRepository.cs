using System.Text.Json;
using Turbine.Edge.Updates.Tuf;

namespace Turbine.IntegrationTests.Edge;

/// <summary>A publisher's TUF repository in a temporary folder with a fresh key per role, and a device's trusted folder.</summary>
internal sealed class TestTufRepository : IDisposable
{
    private readonly Dictionary<string, RoleSigners> _signers;

    public TestTufRepository(TimeProvider? time = null, TufExpiries? expiries = null, int timestampThreshold = 1, int timestampKeys = 1)
    {
        Root = Directory.CreateTempSubdirectory("turbine-tuf-").FullName;
        _signers = RootMetadata.TopLevelRoles.ToDictionary(
            role => role,
            role => new RoleSigners([.. Enumerable.Range(0, role == "timestamp" ? timestampKeys : 1).Select(_ => TufSigningKey.Generate())], role == "timestamp" ? timestampThreshold : 1));
        Publisher = new TufPublisher(Path.Combine(Root, "repository"), _signers, time ?? TimeProvider.System, expiries);
        Publisher.Initialize();
        Directory.CreateDirectory(DeviceTrust);
        File.Copy(Path.Combine(Publisher.MetadataFolder, "1.root.json"), TrustedRoot);
    }

    public string Root { get; }

    public TufPublisher Publisher { get; }

    public string ServedFolder => Path.Combine(Root, "repository");

    /// <summary>The root.json a device is provisioned with (version 1).</summary>
    public string TrustedRoot => Path.Combine(Root, "provisioned-root.json");

    /// <summary>A device's trusted-metadata folder, provisioned with root version 1.</summary>
    public string DeviceTrust => Path.Combine(Root, "device-trust");

    public IReadOnlyDictionary<string, RoleSigners> Signers => _signers;

    public TufClient Client(UpdateServer server, TimeProvider? time = null)
    {
        if (!File.Exists(Path.Combine(DeviceTrust, "root.json")))
        {
            File.Copy(TrustedRoot, Path.Combine(DeviceTrust, "root.json"));
        }

        return new TufClient(new HttpClient(), server.MetadataUrl, DeviceTrust, time ?? TimeProvider.System);
    }

    /// <summary>Publishes a target of <paramref name="bytes"/> bytes of pattern with custom {"version": n}.</summary>
    public TargetFile PublishBlob(string path, int bytes, long version)
    {
        var source = Path.Combine(Root, $"blob-{Guid.NewGuid():N}");
        File.WriteAllBytes(source, [.. Enumerable.Range(0, bytes).Select(i => (byte)(i * 7))]);
        return Publisher.AddTarget(path, source, JsonDocument.Parse($$"""{"version": {{version}}}""").RootElement);
    }

    public void Dispose()
    {
        foreach (var key in _signers.Values.SelectMany(s => s.Keys))
        {
            key.Dispose();
        }

        Directory.Delete(Root, recursive: true);
    }
}
