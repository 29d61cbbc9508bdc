namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// Releases answers in the order the scheduler took their requests (<c>preserve_ordering</c>), even when several
/// instances finish their batches out of order: an answer that overtakes an earlier one waits here for it.
/// </summary>
internal sealed class ResponseSequencer
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, (WorkItem Item, InferenceResult Result)> _early = [];
    private long _next;

    /// <summary>Delivers <paramref name="result"/> now if every earlier request was answered, else once they are.</summary>
    public void Release(WorkItem item, InferenceResult result, Action<WorkItem, InferenceResult> deliver)
    {
        lock (_lock)
        {
            if (item.Sequence != _next)
            {
                _early.Add(item.Sequence, (item, result));
                return;
            }

            // Delivering only sets a TaskCompletionSource whose continuations run asynchronously, so it is cheap
            // enough to do under the lock, and doing so keeps the order.
            deliver(item, result);
            _next++;
            while (_early.Remove(_next, out var waiting))
            {
                deliver(waiting.Item, waiting.Result);
                _next++;
            }
        }
    }
}
