namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// One model instance and who may run it now: its worker loop, or a caller running a cheap request inline. Runs
/// never overlap on one instance. A caller only ever tries (and queues when the slot is taken); the worker waits
/// without spinning, so a saturated machine does not burn a core on the handover.
/// </summary>
internal sealed class InstanceSlot(IModelInstance instance) : IDisposable
{
    private readonly SemaphoreSlim _taken = new(1, 1);

    public IModelInstance Instance { get; } = instance;

    /// <summary>Scratch lists for an inline run, reused because only the slot's holder touches them.</summary>
    public List<WorkItem> Batch { get; } = [];

    /// <inheritdoc cref="Batch"/>
    public List<Tensor> Results { get; } = [];

    public bool TryTake() => _taken.Wait(0);

    /// <summary>Takes the instance, blocking the worker's own thread while an inline run holds it.</summary>
    public void Take() => _taken.Wait();

    public Task TakeAsync() => _taken.WaitAsync();

    public void Release() => _taken.Release();

    /// <summary>
    /// Releases the instance. The semaphore is left alone on purpose: it holds no wait handle (only the synchronous
    /// and async waits are used), and a late caller may still try it while the runner unloads.
    /// </summary>
    public void Dispose() => Instance.Dispose();
}
