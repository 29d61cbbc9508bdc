using System.Formats.Tar;
using System.IO.Compression;
using Turbine.Edge.Updates;

namespace Turbine.IntegrationTests.Edge;

/// <summary>
/// SECURITY.md A37: a bundle is unpacked into its slot only as regular files and folders under relative paths that stay
/// inside it, within a size and entry budget; anything else is refused before the slot is used, and a signed bundle
/// that is refused is never tried again while the device keeps serving its version.
/// </summary>
public sealed class BundleSafetyTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("turbine-bundle-").FullName;

    public static TheoryData<string> Forgeries() =>
    [
        "a path that climbs out (../)", "an absolute path", "a symbolic link", "a hard link", "a device node",
        "more bytes than the budget", "more entries than the budget", "no bundle.json",
    ];

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void A_forged_bundle_is_refused_and_nothing_lands_outside_the_slot(string forgery)
    {
        var archive = Path.Combine(_folder, "forged.tar.gz");
        using (var file = File.Create(archive))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            if (forgery != "no bundle.json")
            {
                AddFile(tar, "bundle.json", """{"version": 2}"""u8.ToArray());
            }

            AddFile(tar, "models/simple/config.json", "{}"u8.ToArray());
            switch (forgery)
            {
                case "a path that climbs out (../)":
                    AddFile(tar, "models/../../escaped", [1]);
                    break;
                case "an absolute path":
                    AddFile(tar, Path.Combine(_folder, "absolute"), [1]);
                    break;
                case "a symbolic link":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "models/link") { LinkName = "/etc/passwd" });
                    break;
                case "a hard link":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "models/hard") { LinkName = "/etc/passwd" });
                    break;
                case "a device node":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "models/null") { DeviceMajor = 1, DeviceMinor = 3 });
                    break;
                case "more bytes than the budget":
                    AddFile(tar, "models/simple/big.bin", new byte[2 * 1024 * 1024]); // compresses to a few KiB: a small bomb
                    break;
                case "more entries than the budget":
                    for (var i = 0; i < 120; i++)
                    {
                        AddFile(tar, $"models/simple/f{i}", [1]);
                    }

                    break;
            }
        }

        var slot = Path.Combine(_folder, "slots", "b.staging");

        Assert.Throws<InvalidDataException>(() => Bundle.Extract(archive, slot, new BundleLimits(MaxBytes: 1024 * 1024, MaxEntries: 100)));

        Assert.False(File.Exists(Path.Combine(_folder, "escaped")));
        Assert.False(File.Exists(Path.Combine(_folder, "absolute")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(slot, "*", SearchOption.AllDirectories), entry => new FileInfo(entry).LinkTarget is not null);
    }

    [Fact]
    public async Task A_signed_bundle_that_cannot_be_unpacked_is_rejected_and_the_device_keeps_its_version()
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        var archive = Path.Combine(_folder, "escape.tar.gz");
        using (var file = File.Create(archive))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            AddFile(tar, "bundle.json", """{"version": 2}"""u8.ToArray());
            AddFile(tar, "../../escaped", [1]);
        }

        device.Publish(archive, 2); // signed: the publisher's key was misused, or the build was wrong
        var agent = device.Start();
        var address = await agent.ServingAsync("slot a (version 1) serves at");

        await agent.WaitForAsync("version 2 is unusable: '../../escaped' is not a relative path inside the bundle");
        await agent.WaitForAsync("no update: version 1 is the newest this device takes");
        Assert.Equal("1", await EdgeDevice.InferAsync(address)); // served throughout: the switch never happened
        Assert.Equal([2L], device.State.Rejected);
        Assert.False(File.Exists(Path.Combine(device.Layout.Root, "escaped")));
    }

    public void Dispose()
    {
        Bundle.MakeWritable(_folder);
        Directory.Delete(_folder, recursive: true);
    }

    private static void AddFile(TarWriter tar, string name, byte[] content) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
}
