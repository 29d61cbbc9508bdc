using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>
/// A repository served through <see cref="GatedBackend"/> on a <see cref="FakeTimeProvider"/>: tests hold the worker
/// inside a model run, queue requests behind it, move time, and then let everything go. Given a clock of its own
/// (the system's, for schedulers that wait on it), it serves on that clock instead.
/// </summary>
internal sealed class GatedModels(TimeProvider? clock = null) : IAsyncDisposable
{
    public TestRepository Files { get; } = new();

    public GatedBackend Backend { get; } = new();

    public FakeTimeProvider Time { get; } = new();

    public ModelExecutor Inference { get; private set; } = null!;

    private ModelManager Models { get; set; } = null!;

    public async Task LoadAsync()
    {
        Models = new ModelManager(new ModelRepository(Files.Root), BackendRegistry.Of(Backend), clock ?? Time, NullLogger<ModelManager>.Instance);
        Inference = new ModelExecutor(Models);
        await Models.LoadAllAsync(CancellationToken.None);
    }

    /// <summary>Starts <paramref name="first"/> on the thread pool and returns once the worker is held inside its run.</summary>
    public async Task<Task<T>> HoldWorkerAsync<T>(Func<Task<T>> first)
    {
        while (Backend.Entered.Wait(0))
        {
            // forget runs that entered before: the next one counted must be this request's
        }

        Backend.Gate.Reset();
        var blocker = Task.Run(first);
        await Backend.Entered.WaitAsync();
        return blocker;
    }

    public ModelStatistics Statistics(string model)
    {
        Assert.Null(Inference.Statistics(model, null, out var stats));
        return stats[0].Statistics;
    }

    public async ValueTask DisposeAsync()
    {
        Backend.Gate.Set();
        await Models.DisposeAsync();
        Files.Dispose();
    }
}
