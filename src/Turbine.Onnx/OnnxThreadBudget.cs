using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx;

/// <summary>
/// One budget of ONNX Runtime compute threads for the whole process: the environment is created with global
/// intra-op and inter-op thread pools, and every session whose model does not ask for threads of its own runs on them.
/// Many models times instances then share <see cref="IntraOpThreads"/> threads instead of each session starting a pool
/// of its own (on 2 cores, 16 sessions would otherwise start 16 pools), so the machine is never oversubscribed and
/// Kestrel's threads keep their cores. A session's run also uses its calling thread (the instance's worker), so at most
/// <c>IntraOpThreads - 1 + the runs in progress</c> threads compute at once. Spinning is off: idle pool threads sleep.
/// </summary>
/// <remarks>
/// The environment exists once per process, so the budget is set once, before the first session (the server does it
/// at start from <c>Turbine:OnnxRuntimeThreads</c>); later calls to <see cref="Configure"/> change nothing. A model
/// that sets <c>onnxruntime.intra_op_threads</c> or <c>allow_spinning</c> opts out and gets a pool of its own.
/// </remarks>
public static class OnnxThreadBudget
{
    private static readonly Lock Gate = new();
    private static int _requested;
    private static bool? _shared;

    /// <summary>Compute threads in the global pool (the cores when not configured).</summary>
    public static int IntraOpThreads { get; private set; }

    /// <summary>Whether the global pools exist (false when something created ONNX Runtime's environment before this could).</summary>
    public static bool IsShared
    {
        get
        {
            EnsureEnvironment();
            return _shared == true;
        }
    }

    /// <summary>Sets the budget before the first session; 0 means the machine's cores.</summary>
    /// <returns>False when the environment already exists and the budget can no longer change.</returns>
    public static bool Configure(int intraOpThreads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(intraOpThreads);
        lock (Gate)
        {
            if (_shared is not null)
            {
                return intraOpThreads == 0 || intraOpThreads == IntraOpThreads;
            }

            _requested = intraOpThreads;
            return true;
        }
    }

    /// <summary>Creates ONNX Runtime's environment with the global pools, once; called before every session is created.</summary>
    public static void EnsureEnvironment()
    {
        if (_shared is not null)
        {
            return;
        }

        lock (Gate)
        {
            if (_shared is not null)
            {
                return;
            }

            IntraOpThreads = _requested > 0 ? _requested : Environment.ProcessorCount;
            using var threading = new OrtThreadingOptions
            {
                GlobalIntraOpNumThreads = IntraOpThreads,
                GlobalInterOpNumThreads = 1,
                GlobalSpinControl = false,
            };
            var options = new EnvironmentCreationOptions { threadOptions = threading, logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, logId = "turbine" };
            try
            {
                OrtEnv.CreateInstanceWithOptions(ref options);
                _shared = true;
            }
            catch (OnnxRuntimeException)
            {
                _shared = false; // created elsewhere first: sessions keep pools of their own
            }
        }
    }

    /// <summary>Whether a session with these settings runs on the global pools: its model asked for no threads of its own, and the pools exist.</summary>
    internal static bool Covers(OnnxRuntimeSettings settings) =>
        settings.IntraOpThreads == 0 && settings.InterOpThreads == 0 && !settings.AllowSpinning && IsShared;
}
