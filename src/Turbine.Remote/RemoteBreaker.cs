namespace Turbine.Remote;

/// <summary>
/// A consecutive-failure breaker: after <c>failures</c> failed calls in a row it opens and refuses at once for
/// <c>openFor</c>; then one call is let through (half open), whose success closes it and whose failure opens it again.
/// A failed health check opens it too, and a passed one closes it.
/// </summary>
internal sealed class RemoteBreaker(int failures, TimeSpan openFor, TimeProvider time)
{
    private readonly Lock _gate = new();
    private int _failures;
    private long _openUntil;
    private bool _probing;

    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _openUntil > 0;
            }
        }
    }

    /// <summary>Whether a call may go to the remote now.</summary>
    public bool TryEnter()
    {
        lock (_gate)
        {
            if (_openUntil == 0)
            {
                return true;
            }

            if (time.GetTimestamp() < _openUntil || _probing)
            {
                return false;
            }

            _probing = true; // half open: this one call tries
            return true;
        }
    }

    public void Succeeded()
    {
        lock (_gate)
        {
            _failures = 0;
            _openUntil = 0;
            _probing = false;
        }
    }

    public void Failed()
    {
        lock (_gate)
        {
            _probing = false;
            if (++_failures >= failures || _openUntil > 0)
            {
                Open();
            }
        }
    }

    /// <summary>A call let in that never reached the remote (its caller gave up first): it proves nothing either way.</summary>
    public void Abandoned()
    {
        lock (_gate)
        {
            _probing = false;
        }
    }

    /// <summary>Opens the breaker now (a failed health check).</summary>
    public void Trip()
    {
        lock (_gate)
        {
            _probing = false;
            Open();
        }
    }

    private void Open() => _openUntil = time.GetTimestamp() + (long)(openFor.TotalSeconds * time.TimestampFrequency) + 1;
}
