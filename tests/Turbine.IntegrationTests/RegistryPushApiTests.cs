using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Server.Registry;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Pushing a model folder as an archive over the registry's API, and SECURITY.md A3 on the one extractor it goes
/// through: slips, absolute paths, links, devices, duplicates and bombs are refused with a 400, nothing is registered,
/// and nothing is left on disk.
/// </summary>
public sealed class RegistryPushApiTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();
    private readonly TestRepository _sources = new();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _sources.Dispose();
    }

    [Theory]
    [InlineData("tar.gz", "application/gzip")]
    [InlineData("tar", "application/x-tar")]
    [InlineData("zip", "application/zip")]
    public async Task A_model_folder_pushed_as_an_archive_becomes_the_next_version(string format, string contentType)
    {
        await StartAsync();
        var model = SampleModels.AddSub(DataType.Int32, 4);
        var archive = format == "zip"
            ? Zip(("config.json", """{ "max_batch_size": 8 }"""u8.ToArray()), ("3/model.onnx", model))
            : Tar(format == "tar.gz", ("config.json", """{ "max_batch_size": 8 }"""u8.ToArray(), TarEntryType.RegularFile, null), ("3/model.onnx", model, TarEntryType.RegularFile, null));

        using var response = await PushAsync(archive, contentType);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(1, JsonDocument.Parse(text).RootElement.GetProperty("version").GetInt64());
        var registry = await RegistryDatabases.OpenAsync(RegistryFolder, null, null, TimeProvider.System, default);
        var version = (await registry.Store.GetVersionAsync("simple", 1, default))!;
        Assert.Equal(["config.json", "files/model.onnx"], version.Manifest.Files.Select(f => f.Path));
        Assert.Equal("api", version.CreatedBy);
        Assert.Empty(Directory.EnumerateDirectories(Path.GetTempPath(), "turbine-push-*"));
    }

    public static TheoryData<string> Hostile() =>
        ["slip", "absolute", "symlink", "symlink-then-through", "hardlink", "device", "fifo", "duplicate", "backslash", "bomb", "two-versions", "zip-symlink", "not-an-archive"];

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_archive_is_refused_registers_nothing_and_leaves_nothing(string kind)
    {
        await StartAsync();
        var model = SampleModels.AddSub(DataType.Int32, 4);
        var config = ("config.json", """{ "max_batch_size": 8 }"""u8.ToArray(), TarEntryType.RegularFile, (string?)null);
        var archive = kind switch
        {
            "slip" => Tar(true, config, ("1/../../escaped.onnx", model, TarEntryType.RegularFile, null)),
            "absolute" => Tar(true, config, ("/tmp/escaped.onnx", model, TarEntryType.RegularFile, null)),
            "symlink" => Tar(true, config, ("1/model.onnx", Array.Empty<byte>(), TarEntryType.SymbolicLink, "/etc/passwd")),
            "symlink-then-through" => Tar(true, config, ("lib", Array.Empty<byte>(), TarEntryType.SymbolicLink, "/etc"), ("lib/passwd", "x"u8.ToArray(), TarEntryType.RegularFile, null)),
            "hardlink" => Tar(true, config, ("1/model.onnx", Array.Empty<byte>(), TarEntryType.HardLink, "/etc/passwd")),
            "device" => Tar(true, config, ("1/null", Array.Empty<byte>(), TarEntryType.CharacterDevice, null)),
            "fifo" => Tar(true, config, ("1/pipe", Array.Empty<byte>(), TarEntryType.Fifo, null)),
            "duplicate" => Tar(true, config, ("1/model.onnx", model, TarEntryType.RegularFile, null), ("1/model.onnx", "evil"u8.ToArray(), TarEntryType.RegularFile, null)),
            "backslash" => Tar(true, config, ("1\\..\\..\\escaped.onnx", model, TarEntryType.RegularFile, null)),
            "bomb" => Tar(true, config, ("1/model.onnx", new byte[64 << 20], TarEntryType.RegularFile, null)),
            "two-versions" => Tar(true, config, ("1/model.onnx", model, TarEntryType.RegularFile, null), ("2/model.onnx", model, TarEntryType.RegularFile, null)),
            "zip-symlink" => ZipWithLink(),
            _ => "just some text, not an archive"u8.ToArray(),
        };

        using var response = await PushAsync(archive, "application/gzip");

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("{\"error\":", text, StringComparison.Ordinal);
        var registry = await RegistryDatabases.OpenAsync(RegistryFolder, null, null, TimeProvider.System, default);
        Assert.Empty(await registry.Store.ListModelsAsync(default));
        Assert.Empty(Directory.EnumerateDirectories(Path.GetTempPath(), "turbine-push-*"));
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "escaped.onnx")));
    }

    [Fact]
    public async Task A_push_needs_an_archive_type_and_the_management_rules()
    {
        await StartAsync(token: "a-registry-push-token-long-enough");

        using var anonymous = await PushAsync(Tar(true, ("config.json", "{}"u8.ToArray(), TarEntryType.RegularFile, null)), "application/gzip", token: null);
        using var json = await PushAsync("{}"u8.ToArray(), "application/json", token: "a-registry-push-token-long-enough");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
    }

    private string RegistryFolder => Path.Combine(_sources.Root, "registry");

    private async Task StartAsync(string? token = null)
    {
        _server.Configuration.Add("--Turbine:Registry:Folder=" + RegistryFolder);
        if (token is not null)
        {
            _server.Configuration.Add("--Turbine:Management:Token=" + token);
        }

        await _server.StartAsync();
    }

    private async Task<HttpResponseMessage> PushAsync(byte[] archive, string contentType, string? token = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/registry/models/simple/versions") { Content = new ByteArrayContent(archive) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _server.Http.SendAsync(request);
    }

    private static byte[] Tar(bool gzip, params (string Name, byte[] Data, TarEntryType Type, string? Link)[] entries)
    {
        using var buffer = new MemoryStream();
        using (Stream output = gzip ? new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true) : new NonClosing(buffer))
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, data, type, link) in entries)
            {
                var entry = new PaxTarEntry(type, name);
                if (link is not null)
                {
                    entry.LinkName = link;
                }

                if (type == TarEntryType.RegularFile)
                {
                    entry.DataStream = new MemoryStream(data);
                }

                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] Zip(params (string Name, byte[] Data)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write(data);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] ZipWithLink()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var link = zip.CreateEntry("1/model.onnx");
            link.ExternalAttributes = unchecked((int)(0xA1FFu << 16)); // S_IFLNK | 0777
            using var stream = link.Open();
            stream.Write("/etc/passwd"u8);
        }

        return buffer.ToArray();
    }

    /// <summary>Keeps the buffer open when the tar writer closes what it writes to.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
