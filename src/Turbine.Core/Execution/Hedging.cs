namespace Turbine.Core.Execution;

/// <summary>How a hedged call ended: its answer, and whether the hedge was sent and whether it answered.</summary>
/// <param name="Result">The answer returned.</param>
/// <param name="Hedged">Whether the first target was slow enough for the hedge to be sent.</param>
/// <param name="HedgeWon">Whether the answer is the hedge's, and good.</param>
/// <param name="Loser">The call that lost, which may still be running (a model run cannot be stopped midway); null when no hedge was sent.</param>
public readonly record struct HedgeOutcome<T>(T Result, bool Hedged, bool HedgeWon, Task? Loser = null);

/// <summary>
/// Speculative execution: a call to a first target, and when it has not answered after a delay, the same call to a
/// second; the first good answer wins and the other call is cancelled. A failure of one waits for the other. A loser
/// that still answers has its answer discarded (<c>discard</c>: pooled buffers go back), whenever it ends; that is why
/// this is written here rather than with Polly's hedging, which hands a late loser's result to nobody.
/// </summary>
public static class Hedging
{
    /// <param name="first">The call to the first target.</param>
    /// <param name="hedge">The same call to the hedge target.</param>
    /// <param name="delay">How long the first target has before the hedge is sent.</param>
    /// <param name="time">The clock of the delay.</param>
    /// <param name="succeeded">Whether an answer is good (a failed one lets the other call answer).</param>
    /// <param name="discard">Releases an answer that lost.</param>
    /// <param name="cancellationToken">The caller's cancellation, which cancels both calls.</param>
    public static async Task<HedgeOutcome<T>> RunAsync<T>(
        Func<CancellationToken, Task<T>> first, Func<CancellationToken, Task<T>> hedge, TimeSpan delay, TimeProvider time,
        Func<T, bool> succeeded, Action<T> discard, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(hedge);
        using var firstCall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var primary = first(firstCall.Token);
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            if (await Task.WhenAny(primary, Task.Delay(delay, time, wait.Token)).ConfigureAwait(false) == primary)
            {
                await wait.CancelAsync().ConfigureAwait(false);
                return new(await primary.ConfigureAwait(false), false, false);
            }
        }

        using var hedgeCall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var hedged = hedge(hedgeCall.Token);
        var winner = await Task.WhenAny(primary, hedged).ConfigureAwait(false);
        if (!Good(winner, succeeded))
        {
            var other = winner == primary ? hedged : primary; // one failed: the other may still answer
            await Task.WhenAny(other).ConfigureAwait(false);
            if (Good(other, succeeded))
            {
                winner = other;
            }
        }

        var loser = winner == primary ? hedged : primary;
        await (winner == primary ? hedgeCall : firstCall).CancelAsync().ConfigureAwait(false);
        _ = loser.ContinueWith(
            (task, state) =>
            {
                if (task.IsCompletedSuccessfully)
                {
                    ((Action<T>)state!)(task.Result);
                }
            },
            discard, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new(await winner.ConfigureAwait(false), true, winner == hedged && Good(winner, succeeded), loser);
    }

    private static bool Good<T>(Task<T> task, Func<T, bool> succeeded) => task.IsCompletedSuccessfully && succeeded(task.Result);
}
