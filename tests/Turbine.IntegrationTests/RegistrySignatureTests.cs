using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Turbine.Onnx.Tools;
using Turbine.Registry;
using Turbine.Server.Registry;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// SECURITY.md A19 for the registry: a version is materialized only when every file matches its digest and, where
/// keys are trusted, its manifest's signature verifies; each forgery is refused with its reason and nothing is written.
/// </summary>
public sealed class RegistrySignatureTests : IDisposable
{
    private readonly TestRepository _files = new();
    private readonly string _trustedKey;
    private readonly string _trustedPublic;
    private readonly string _otherKey;

    public RegistrySignatureTests()
    {
        (_trustedKey, _trustedPublic) = TestKeys.Write(_files.Root, "trusted");
        (_otherKey, _) = TestKeys.Write(_files.Root, "other");
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_signed_version_from_a_trusted_key_materializes_into_the_repository()
    {
        var registry = await OpenAsync();
        using var signer = ManifestSigner.FromPemFile(_trustedKey, "ci");
        var version = await PushAsync(registry, signer);
        using var verifier = SignatureVerifier.FromPemFiles([_trustedPublic]);

        var folder = await registry.MaterializeAsync(version, Repository, verifier, default);

        Assert.Equal(Path.Combine(Repository, "mlp", "1"), folder);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_files.Root, "mlp", "1", "model.onnx")), File.ReadAllBytes(Path.Combine(folder, "model.onnx")));
        Assert.True(File.Exists(Path.Combine(Repository, "mlp", "config.json")));
        Assert.StartsWith("ci (", version.Signer, StringComparison.Ordinal);
        Assert.Empty(StagingEntries());
    }

    public static TheoryData<string, string> Forgeries() => new()
    {
        { "unsigned", "mlp version 1 is not signed" },
        { "wrong key", "whose key is not trusted here" },
        { "one byte changed", "'files/model.onnx' does not match its digest" },
        { "manifest swapped", "the signature does not match the manifest" },
        { "another version's manifest", "mlp version 2: its manifest names mlp version 1" },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_forged_version_is_refused_with_its_reason_and_nothing_is_written(string forgery, string expected)
    {
        var registry = await OpenAsync();
        using var trusted = ManifestSigner.FromPemFile(_trustedKey, "ci");
        using var other = ManifestSigner.FromPemFile(_otherKey, "mallory");
        var version = forgery switch
        {
            "unsigned" => await PushAsync(registry, null),
            "wrong key" => await PushAsync(registry, other),
            _ => await PushAsync(registry, trusted),
        };
        switch (forgery)
        {
            case "one byte changed":
                var blob = Directory.EnumerateFiles(Path.Combine(_files.Root, "registry", "artifacts"), version.Manifest.Files.Single(f => f.Path == "files/model.onnx").Sha256, SearchOption.AllDirectories).Single();
                var bytes = File.ReadAllBytes(blob);
                bytes[^1] ^= 0x01;
                File.WriteAllBytes(blob, bytes);
                break;
            case "manifest swapped":
                var swapped = version.Manifest with { Files = [.. version.Manifest.Files.Select(f => f with { Sha256 = f.Path == "config.json" ? new string('0', 64) : f.Sha256 })] };
                await ExecuteAsync("UPDATE registry_versions SET manifest = $manifest WHERE version = 1", ("$manifest", swapped.ToJson()));
                break;
            case "another version's manifest":
                await PushAsync(registry, trusted);
                await ExecuteAsync("UPDATE registry_versions SET manifest = (SELECT manifest FROM registry_versions WHERE version = 1), signature = (SELECT signature FROM registry_versions WHERE version = 1) WHERE version = 2");
                break;
        }

        var target = forgery == "another version's manifest" ? "2" : "1";
        var stored = await registry.ResolveAsync("mlp", target, default);
        using var verifier = SignatureVerifier.FromPemFiles([_trustedPublic]);

        var error = await Assert.ThrowsAsync<RegistryException>(() => registry.MaterializeAsync(stored, Repository, verifier, default));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Repository, "mlp", target)));
        Assert.Empty(StagingEntries());
    }

    [Fact]
    public async Task A_manifest_naming_a_path_outside_its_folder_is_refused_before_anything_is_written()
    {
        var registry = await OpenAsync();
        var version = await PushAsync(registry, null);
        var escaping = version.Manifest.ToJson().Replace("files/model.onnx", "../../escaped.onnx", StringComparison.Ordinal);
        await ExecuteAsync("UPDATE registry_versions SET manifest = $manifest WHERE version = 1", ("$manifest", escaping));

        var error = await Assert.ThrowsAsync<RegistryException>(() => registry.ResolveAsync("mlp", "1", default));

        Assert.Contains("is not a safe relative path", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_files.Root, "escaped.onnx")));
    }

    private string Repository => Path.Combine(_files.Root, "serving");

    private IEnumerable<string> StagingEntries()
    {
        var staging = Path.Combine(Repository, ".registry-staging");
        return Directory.Exists(staging) ? Directory.EnumerateFileSystemEntries(staging) : [];
    }

    private async Task<ModelRegistry> OpenAsync()
    {
        _files.Add("mlp", SampleModels.Mlp(), """{ "max_batch_size": 8 }""");
        return await RegistryDatabases.OpenAsync(Path.Combine(_files.Root, "registry"), null, null, TimeProvider.System, default);
    }

    private Task<ModelVersion> PushAsync(ModelRegistry registry, ManifestSigner? signer) =>
        registry.PushAsync(new PushRequest("mlp", Path.Combine(_files.Root, "mlp", "1"), Path.Combine(_files.Root, "mlp", "config.json"), "ci", Signer: signer), default);

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_files.Root, "registry", "registry.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }
}
