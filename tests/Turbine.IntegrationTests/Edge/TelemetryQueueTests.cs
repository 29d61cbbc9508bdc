using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Turbine.Edge.Updates.Telemetry;

namespace Turbine.IntegrationTests.Edge;

/// <summary>
/// Issue 21's offline telemetry: records queue on disk while nothing receives them, the bound drops the oldest and
/// counts them, and forwarding delivers every record that was not dropped, at least once, with ids that let the
/// receiver drop the repeats.
/// </summary>
public sealed class TelemetryQueueTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("turbine-telemetry-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void Records_survive_a_restart_and_acknowledged_ones_are_gone()
    {
        var queue = new TelemetryQueue(_folder, "dev", 1024 * 1024, _time);
        for (var i = 0; i < 5; i++)
        {
            queue.Append("event", writer => writer.WriteNumber("n", i));
        }

        queue.Acknowledge(queue.Pending(2)[^1].Sequence);
        File.AppendAllText(Directory.GetFiles(_folder, "*.jsonl").Max()!, "{\"id\":\"dev-6\",\"se"); // a line cut by a power loss

        var reopened = new TelemetryQueue(_folder, "dev", 1024 * 1024, _time);
        var pending = reopened.Pending(100);

        Assert.Equal([3L, 4L, 5L], pending.Select(record => record.Sequence));
        Assert.Equal("dev-3", JsonDocument.Parse(pending[0].Json).RootElement.GetProperty("id").GetString());
        reopened.Append("event", writer => writer.WriteNumber("n", 6));
        Assert.Equal(6, reopened.Pending(100)[^1].Sequence); // numbering goes on after the cut line
    }

    [Fact]
    public void A_full_queue_drops_the_oldest_records_and_counts_them()
    {
        var queue = new TelemetryQueue(_folder, "dev", 64 * 1024, _time);
        var padding = new string('x', 900);
        for (var i = 0; i < 400; i++)
        {
            queue.Append("metrics", writer => writer.WriteString("text", padding));
        }

        var pending = queue.Pending(1000);
        Assert.True(queue.Bytes <= 64 * 1024 + 8 * 1024, $"{queue.Bytes} bytes on disk");
        Assert.True(queue.Dropped > 300, $"{queue.Dropped} dropped");
        var droppedRecords = pending.Select(r => JsonDocument.Parse(r.Json).RootElement).Where(r => r.GetProperty("kind").GetString() == "dropped").ToList();
        Assert.NotEmpty(droppedRecords);
        Assert.Equal(queue.Dropped, droppedRecords.Max(r => r.GetProperty("total").GetInt64()));
        Assert.Equal(pending[^1].Sequence, pending.Count + queue.Dropped); // every record is either kept or counted, and the newest are kept
    }

    [Fact]
    public async Task Forwarding_delivers_everything_once_the_receiver_answers_and_repeats_carry_the_same_ids()
    {
        var queue = new TelemetryQueue(_folder, "dev", 1024 * 1024, _time);
        for (var i = 0; i < 450; i++)
        {
            queue.Append("event", writer => writer.WriteNumber("n", i));
        }

        await using var receiver = await Receiver.StartAsync();
        using var http = new HttpClient();
        var forwarder = new TelemetryForwarder(http, receiver.Url, queue, batchSize: 200);

        receiver.Answer = HttpStatusCode.ServiceUnavailable; // offline: nothing acknowledged
        Assert.Equal(0, await forwarder.ForwardAsync(CancellationToken.None));
        receiver.Answer = HttpStatusCode.OK;
        receiver.LoseNextAnswer = true; // the receiver stored the batch but the device never heard: it comes again
        Assert.Equal(0, await forwarder.ForwardAsync(CancellationToken.None));
        Assert.Equal(450, await forwarder.ForwardAsync(CancellationToken.None));

        Assert.Empty(queue.Pending(10));
        Assert.Equal(450, receiver.Ids.Distinct().Count());
        Assert.Equal(450 + 200, receiver.Ids.Count); // the refused batch was not stored; the batch whose answer was lost came twice
        Assert.All(receiver.ContentTypes, type => Assert.Equal("application/x-ndjson", type));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A telemetry endpoint that keeps the ids it receives and can refuse or lose its answer.</summary>
    internal sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public ConcurrentQueue<string> Ids { get; } = new();

        public ConcurrentQueue<string> Kinds { get; } = new();

        public ConcurrentQueue<string> Lines { get; } = new();

        public ConcurrentQueue<string> ContentTypes { get; } = new();

        public HttpStatusCode Answer { get; set; } = HttpStatusCode.OK;

        public bool LoseNextAnswer { get; set; }

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/telemetry", receiver.ReceiveAsync);
            await app.StartAsync();
            receiver.Url = new Uri(app.Urls.First() + "/telemetry");
            return receiver;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();

        private async Task ReceiveAsync(HttpContext context)
        {
            if (Answer != HttpStatusCode.OK)
            {
                context.Response.StatusCode = (int)Answer;
                return;
            }

            ContentTypes.Enqueue(context.Request.ContentType ?? string.Empty);
            using var reader = new StreamReader(context.Request.Body);
            while (await reader.ReadLineAsync() is { } line)
            {
                using var record = JsonDocument.Parse(line);
                Ids.Enqueue(record.RootElement.GetProperty("id").GetString()!);
                Kinds.Enqueue(record.RootElement.GetProperty("kind").GetString()!);
                Lines.Enqueue(line);
            }

            if (LoseNextAnswer)
            {
                LoseNextAnswer = false;
                context.Abort();
            }
        }
    }
}
