using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Turbine.IntegrationTests.Edge;

/// <summary>
/// A static HTTP server over a TUF repository folder, as a device would reach one: Kestrel's static files (with range
/// requests) on 127.0.0.1, and the faults a network gives: a download cut after some bytes, the server gone.
/// </summary>
internal sealed class UpdateServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _requests = new();
    private int _cuts;
    private long _cutAfterBytes;

    private UpdateServer(WebApplication app, string folder)
    {
        _app = app;
        Folder = folder;
    }

    public string Folder { get; }

    public Uri MetadataUrl => new(BaseUrl, "metadata/");

    public Uri TargetsUrl => new(BaseUrl, "targets/");

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request as "METHOD path [Range]".</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>While false the server answers 503 to everything, as if the network were down.</summary>
    public bool Online { get; set; } = true;

    public static async Task<UpdateServer> StartAsync(string folder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new UpdateServer(app, folder);
        app.Use(server.FaultsAsync);
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(folder), ServeUnknownFileTypes = true, ContentTypeProvider = new FileExtensionContentTypeProvider() });
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Urls.First() + "/");
        return server;
    }

    /// <summary>The next <paramref name="count"/> target downloads break off after <paramref name="bytes"/> bytes.</summary>
    public void CutTargetDownloads(int count, long bytes)
    {
        _cutAfterBytes = bytes;
        Volatile.Write(ref _cuts, count);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task FaultsAsync(HttpContext context, RequestDelegate next)
    {
        _requests.Enqueue($"{context.Request.Method} {context.Request.Path}{(context.Request.Headers.Range.Count > 0 ? " " + context.Request.Headers.Range : string.Empty)}");
        if (!Online)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        if (context.Request.Path.StartsWithSegments("/targets") && Interlocked.Decrement(ref _cuts) >= 0)
        {
            context.Response.Body = new CuttingStream(context.Response.Body, _cutAfterBytes, context.Abort);
        }

        await next(context);
    }

    /// <summary>Passes bytes through until the limit, then aborts the connection mid-body.</summary>
    private sealed class CuttingStream(Stream inner, long limit, Action abort) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var allowed = (int)Math.Min(buffer.Length, Math.Max(0, limit - _written));
            if (allowed > 0)
            {
                await inner.WriteAsync(buffer[..allowed], cancellationToken);
                await inner.FlushAsync(cancellationToken);
                _written += allowed;
            }

            if (allowed < buffer.Length)
            {
                abort();
                throw new IOException("download cut by the test");
            }
        }
    }
}
