using Turbine.Server.Dashboard;

namespace Turbine.IntegrationTests;

/// <summary>The dashboard's arithmetic: percentiles from histogram buckets, and the ring of snapshots with its signal.</summary>
public sealed class DashboardSnapshotTests
{
    [Fact]
    public void A_quantile_is_interpolated_inside_its_bucket_as_histogram_quantile_does()
    {
        var buckets = new long[DurationCounter.BucketBounds.Length + 1];
        buckets[4] = 100; // every duration in (0.5 ms, 1 ms]

        Assert.Equal(0.75, SnapshotTaker.Quantile(buckets, 0.50)!.Value, 6);
        Assert.Equal(0.995, SnapshotTaker.Quantile(buckets, 0.99)!.Value, 6);
        Assert.Null(SnapshotTaker.Quantile(new long[buckets.Length], 0.5));

        buckets[^1] = 1_000; // above the last bound: the bound, as Prometheus answers
        Assert.Equal(DurationCounter.BucketBounds[^1] / 1e6, SnapshotTaker.Quantile(buckets, 0.99));
    }

    [Fact]
    public async Task The_history_keeps_the_latest_in_order_and_signals_each_new_one()
    {
        var history = new SnapshotHistory(capacity: 3);
        var next = history.NextAsync(CancellationToken.None);
        Assert.False(next.IsCompleted);

        for (var time = 1; time <= 5; time++)
        {
            history.Add(Snapshot(time));
        }

        Assert.Equal(1, (await next).Time);
        Assert.Equal([3L, 4L, 5L], history.Since(0).Select(s => s.Time));
        Assert.Equal([4L, 5L], history.Since(4).Select(s => s.Time));
        Assert.Equal(5, history.Latest!.Time);
    }

    private static DashboardSnapshot Snapshot(long time) =>
        new(time, new ServerFigures(true, 0, 0, 1, 0, 0, 0, 0, null, null, 0, 0, []), [], [], []);
}

/// <summary>What a snapshot costs a server with many models: it runs every second for as long as the server does.</summary>
public sealed class DashboardSnapshotCostTests
{
    [Fact]
    public async Task A_snapshot_of_a_hundred_models_reads_no_folder_and_allocates_little()
    {
        await using var server = new FolderServer();
        var model = Turbine.Onnx.Tools.SampleModels.Identity(DataType.Fp32, -1);
        for (var i = 0; i < 100; i++)
        {
            server.Folder.Add($"m{i:D3}", model);
        }

        await server.StartAsync(options => options.Dashboard.Interval = TimeSpan.FromHours(1)); // the timer stays out of the way
        var taker = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<SnapshotTaker>(server.Server.Services);
        taker.Take();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(100, taker.Take().Models.Count);
        }

        var perSnapshot = (GC.GetAllocatedBytesForCurrentThread() - before) / 20;
        // Measured 2026-12-07: 138 KB (1.4 KB a model: its statistics' description, two bucket arrays, its figures); reading
        // the repository's folders instead (the index) made 4 MB a second with 200 models, enough to show in the
        // allocation budget tests of other servers in the same process.
        Assert.True(perSnapshot < 256 * 1024, $"a snapshot of 100 models allocated {perSnapshot} bytes");
    }
}
