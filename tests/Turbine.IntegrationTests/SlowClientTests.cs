using System.Net.Sockets;
using System.Text;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>SECURITY.md A10: a client that trickles its headers is cut off, and everybody else keeps being served.</summary>
public sealed class SlowClientTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 16));
        await _server.StartAsync(options => options.RequestHeadersTimeout = TimeSpan.FromSeconds(1));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Trickled_headers_are_cut_off_while_other_clients_are_served()
    {
        using var slow = new TcpClient();
        await slow.ConnectAsync("127.0.0.1", _server.Server.HttpPort);
        var stream = slow.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /v2/models/simple/infer HTTP/1.1\r\nHost: turbine\r\nX-Slow: "));
        using var trickling = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var trickle = TrickleAsync(stream, trickling.Token);

        using var client = new Client.TurbineHttpClient(_server.Http);
        var served = 0;
        while (!trickle.IsCompleted)
        {
            using var request = RestEndpointTests.SimpleRequest();
            using var response = await client.InferAsync(request);
            served++;
        }

        var cutOffAfter = await trickle;
        Assert.InRange(cutOffAfter, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5)); // the 1 s limit, checked on Kestrel's 1 s heartbeat
        Assert.True(served > 0);
    }

    /// <summary>Sends one header byte every 100 ms until the server closes the connection; returns how long that took.</summary>
    private static async Task<TimeSpan> TrickleAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var buffer = new byte[256];
        var reading = stream.ReadAsync(buffer, cancellationToken).AsTask();
        try
        {
            while (!reading.IsCompleted)
            {
                await stream.WriteAsync("a"u8.ToArray(), cancellationToken);
                await Task.WhenAny(reading, Task.Delay(100, cancellationToken));
            }

            await reading; // 0 bytes (closed) or a 408 response before the close
        }
        catch (IOException)
        {
            // the server reset the connection while we wrote: cut off too
        }

        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }
}
