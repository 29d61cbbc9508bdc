using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Turbine.Edge.Updates.Telemetry;
using Turbine.Edge.Updates.Tuf;

namespace Turbine.Edge.Updates;

/// <summary>
/// The update agent: runs the edge server from the active slot and keeps it there, and, when the network allows,
/// installs signed bundles into the other slot and switches to them safely. Each step is one durable state write, so a
/// power loss anywhere leaves a state the next start finishes or undoes:
/// <list type="number">
/// <item>refresh the TUF metadata and pick the newest bundle above the active version that never failed here;</item>
/// <item>download it (resumable, digest-checked);</item>
/// <item>unpack it into the inactive slot (marked <c>installing</c> first; a start that finds the mark empties the slot);</item>
/// <item>switch: one write makes it active, remembers the previous slot, and puts the new one on trial;</item>
/// <item>start its server (each start counted before it happens) and run the health check: ready, golden cases;</item>
/// <item>commit after the probation, or roll back to the previous slot when the check fails or the starts run out.</item>
/// </list>
/// </summary>
public sealed class UpdateAgent(AgentOptions options, TimeProvider time, Action<string> log) : IDisposable
{
    private readonly AgentLayout _layout = new(options.Root);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(10) };
    private TelemetryQueue _telemetry = null!;
    private ServerProcess? _server;
    private DateTimeOffset? _healthyAt;
    private int _crashesInARow;

    /// <summary>The layout of the agent's folder.</summary>
    public AgentLayout Layout => _layout;

    /// <summary>Prepares a device: the repository's root metadata to trust, and optionally a factory bundle in slot a.</summary>
    public static void Provision(AgentLayout layout, string trustedRoot, string? factoryBundle, BundleLimits limits)
    {
        RootMetadata.Parse(File.ReadAllBytes(trustedRoot)); // refuse a file that is not root metadata before trusting it
        Directory.CreateDirectory(layout.Trust);
        DurableFile.Write(Path.Combine(layout.Trust, "root.json"), File.ReadAllBytes(trustedRoot));
        if (factoryBundle is null)
        {
            return;
        }

        var state = AgentState.Load(layout.State);
        if (state.Active is not null)
        {
            throw new InvalidOperationException($"{layout.Root} already runs version {state.ActiveVersion}; updates replace it");
        }

        var manifest = UnpackIntoSlot(layout, "a", factoryBundle, limits, entryWritten: null);
        var slots = new Dictionary<string, SlotContent>(StringComparer.Ordinal) { ["a"] = new(manifest.Version, "factory", "factory") };
        (state with { Active = "a", Slots = slots }).Save(layout.State);
    }

    /// <summary>An operator's rollback (with the agent stopped): back to the previous slot, the current version rejected.</summary>
    public static AgentState RollBack(AgentLayout layout)
    {
        var state = AgentState.Load(layout.State);
        if (state.Previous is null || !state.Slots.ContainsKey(state.Previous))
        {
            throw new InvalidOperationException("there is no previous slot to roll back to");
        }

        var rolledBack = state.RolledBack();
        rolledBack.Save(layout.State);
        return rolledBack;
    }

    /// <summary>Runs until <paramref name="stop"/>: supervises the server, checks for updates, forwards telemetry.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        Directory.CreateDirectory(_layout.Root);
        _telemetry = new TelemetryQueue(_layout.Telemetry, options.DeviceId, options.TelemetryMaxBytes, time);
        StopLeftoverServer();
        var state = Recover(AgentState.Load(_layout.State));
        var nextCheck = time.GetUtcNow();
        var nextTelemetry = time.GetUtcNow() + options.TelemetryInterval;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (_server is null && state.Active is not null)
                {
                    state = await StartActiveAsync(state, stop);
                }

                if (state.Trial is not null && _healthyAt is { } healthy && time.GetUtcNow() >= healthy + options.Probation)
                {
                    state = Commit(state);
                }

                var now = time.GetUtcNow();
                if (options.MetadataUrl is not null && now >= nextCheck && state.Trial is null)
                {
                    state = await CheckForUpdateAsync(state, stop);
                    nextCheck = time.GetUtcNow() + options.CheckInterval;
                    continue;
                }

                if (now >= nextTelemetry)
                {
                    await TelemetryTickAsync(stop);
                    nextTelemetry = time.GetUtcNow() + options.TelemetryInterval;
                }

                await WaitForSomethingAsync(state, nextCheck, nextTelemetry, stop);
                if (_server is { Exited.IsCompleted: true } gone)
                {
                    await OnServerExitedAsync(gone, state, stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            await StopServerAsync();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    private async Task WaitForSomethingAsync(AgentState state, DateTimeOffset nextCheck, DateTimeOffset nextTelemetry, CancellationToken stop)
    {
        var wake = nextTelemetry;
        if (options.MetadataUrl is not null && state.Trial is null && nextCheck < wake)
        {
            wake = nextCheck;
        }

        if (state.Trial is not null && _healthyAt is { } healthy && healthy + options.Probation < wake)
        {
            wake = healthy + options.Probation;
        }

        if (state.Active is not null && _server is null)
        {
            wake = time.GetUtcNow() + Backoff(); // the server would not start: try again after a pause
        }

        var delay = wake - time.GetUtcNow();
        var waits = new List<Task> { Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, time, stop) };
        if (_server is not null)
        {
            waits.Add(_server.Exited);
        }

        await Task.WhenAny(waits);
        stop.ThrowIfCancellationRequested();
    }

    private AgentState Recover(AgentState state)
    {
        if (state.Installing is { } installing)
        {
            log($"unpacking version {installing.Version} into slot {installing.Slot} was interrupted: emptying the slot");
            RemoveTree(_layout.Slot(installing.Slot));
            RemoveTree(_layout.Staging(installing.Slot));
            var slots = new Dictionary<string, SlotContent>(state.Slots, StringComparer.Ordinal);
            slots.Remove(installing.Slot);
            state = state with { Installing = null, Slots = slots };
            state.Save(_layout.State);
        }

        foreach (var name in AgentState.SlotNames)
        {
            RemoveTree(_layout.Staging(name));
        }

        if (state.Active is not null)
        {
            log($"slot {state.Active} (version {state.ActiveVersion}) is active{(state.Trial is { } trial ? $", on trial after {trial.Starts} start(s)" : string.Empty)}");
        }

        return state;
    }

    private async Task<AgentState> StartActiveAsync(AgentState state, CancellationToken stop)
    {
        _healthyAt = null;
        if (state.Trial is { } trial)
        {
            if (trial.Starts >= options.MaxTrialStarts)
            {
                return await RollBackAsync(state, $"crash loop: {trial.Starts} start(s) of slot {trial.Slot} without passing probation");
            }

            state = state with { Trial = trial with { Starts = trial.Starts + 1 } };
            state.Save(_layout.State);
            FaultPoints.Reach("trial-starting");
        }

        var slot = _layout.Slot(state.Active!);
        try
        {
            _server = await ServerProcess.StartAsync(ServerStart(slot), options.ReadyTimeout, ServerLine, stop);
            await File.WriteAllTextAsync(_layout.ServerPid, _server.Id.ToString(CultureInfo.InvariantCulture), CancellationToken.None);
            log($"slot {state.Active} (version {state.ActiveVersion}) serves at {_server.Address}");
            Console.Out.Flush();
        }
        catch (ServerStartException e)
        {
            _crashesInARow++;
            log($"slot {state.Active} (version {state.ActiveVersion}) did not start: {e.Message}");
            Event("server-failed", writer => Fields(writer, state, e.Message));
            return state;
        }

        if (state.Trial is null)
        {
            return state;
        }

        FaultPoints.Reach("trial-started");
        string? failure;
        try
        {
            failure = await SlotHealthCheck.RunAsync(_http, _server.Address, slot, stop);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException or InvalidOperationException or KeyNotFoundException)
        {
            failure = $"the health check broke: {e.Message}";
        }

        if (failure is not null)
        {
            return await RollBackAsync(state, $"health check failed: {failure}");
        }

        _healthyAt = time.GetUtcNow();
        log($"slot {state.Active} (version {state.ActiveVersion}) passed its health check; committing after {options.Probation.TotalSeconds:F0} s of probation");
        return options.Probation <= TimeSpan.Zero ? Commit(state) : state;
    }

    private async Task OnServerExitedAsync(ServerProcess gone, AgentState state, CancellationToken stop)
    {
        var code = await gone.Exited;
        var errors = gone.LastErrors;
        await gone.DisposeAsync();
        _server = null;
        _crashesInARow++;
        log($"the server of slot {state.Active} exited with {code}");
        Event("server-exited", writer =>
        {
            Fields(writer, state, errors);
            writer.WriteNumber("exitCode", code);
        });
        if (state.Trial is null)
        {
            await Task.Delay(Backoff(), time, stop);
        }
    }

    /// <summary>The server logs warnings and errors only: each line goes to the agent's log and to the telemetry queue.</summary>
    private void ServerLine(string line)
    {
        log($"server: {line}");
        Event("log", writer => writer.WriteString("line", line.Length > 4096 ? line[..4096] : line));
    }

    private AgentState Commit(AgentState state)
    {
        var committed = state with { Trial = null };
        committed.Save(_layout.State);
        FaultPoints.Reach("committed");
        _healthyAt = null;
        _crashesInARow = 0;
        log($"committed slot {committed.Active} (version {committed.ActiveVersion})");
        Event("update-committed", writer => Fields(writer, committed, null));
        TargetDownloader.Prune(_layout.Downloads, []);
        return committed;
    }

    private async Task<AgentState> RollBackAsync(AgentState state, string reason)
    {
        FaultPoints.Reach("rolling-back");
        await StopServerAsync();
        var failed = state.ActiveVersion;
        var rolledBack = state.RolledBack();
        rolledBack.Save(_layout.State);
        log($"rolled back from version {failed} to {(rolledBack.Active is null ? "no slot" : $"slot {rolledBack.Active} (version {rolledBack.ActiveVersion})")}: {reason}");
        Event("update-rolled-back", writer =>
        {
            Fields(writer, rolledBack, reason);
            writer.WriteNumber("failedVersion", failed);
        });
        return rolledBack;
    }

    private async Task<AgentState> CheckForUpdateAsync(AgentState state, CancellationToken stop)
    {
        TargetFile? candidate = null;
        try
        {
            var tuf = new TufClient(_http, options.MetadataUrl!, _layout.Trust, time);
            var targets = await tuf.RefreshAsync(stop);
            candidate = targets
                .Where(target => BundleVersion(target) > state.ActiveVersion && !state.Rejected.Contains(BundleVersion(target)))
                .OrderByDescending(BundleVersion)
                .FirstOrDefault();
            if (candidate is null)
            {
                log($"no update: version {state.ActiveVersion} is the newest this device takes");
                return state;
            }

            log($"version {BundleVersion(candidate)} is available ({candidate.Path}, {candidate.Length} bytes)");
            var firstChunk = true;
            var downloader = new TargetDownloader(_http, options.TargetsUrl ?? new Uri(options.MetadataUrl!, "../targets/"), _layout.Downloads)
            {
                ChunkWritten = _ =>
                {
                    if (firstChunk)
                    {
                        firstChunk = false;
                        FaultPoints.Reach("downloading");
                    }
                },
            };
            var file = await downloader.DownloadAsync(candidate, tuf.ConsistentSnapshot, stop);
            FaultPoints.Reach("downloaded");
            state = Install(state, candidate, file);
            return await SwitchAsync(state);
        }
        catch (TufException e)
        {
            log($"no update: {e.Failure}: {e.Message}");
            Event("update-refused", writer =>
            {
                Fields(writer, state, e.Message);
                writer.WriteString("failure", e.Failure.ToString());
            });
            return state;
        }
        catch (InvalidDataException e) when (candidate is not null)
        {
            // A signed bundle that cannot be unpacked will not improve: never try it again.
            log($"version {BundleVersion(candidate)} is unusable: {e.Message}");
            Event("update-rejected", writer => Fields(writer, state, e.Message));
            var rejected = AgentState.Load(_layout.State);
            rejected = rejected with { Installing = null, Rejected = [.. rejected.Rejected, BundleVersion(candidate)] };
            RemoveTree(_layout.Staging(rejected.Inactive));
            rejected.Save(_layout.State);
            return rejected;
        }
    }

    private AgentState Install(AgentState state, TargetFile target, string file)
    {
        var slot = state.Inactive;
        var version = BundleVersion(target);
        var slots = new Dictionary<string, SlotContent>(state.Slots, StringComparer.Ordinal);
        slots.Remove(slot);
        state = state with { Installing = new InstallingState(slot, version), Slots = slots, Previous = state.Previous == slot ? null : state.Previous };
        state.Save(_layout.State);
        var first = true;
        var manifest = UnpackIntoSlot(_layout, slot, file, options.BundleLimits, () =>
        {
            if (first)
            {
                first = false;
                FaultPoints.Reach("unpacking");
            }
        });
        if (manifest.Version != version)
        {
            throw new InvalidDataException($"the bundle says version {manifest.Version}; its signed target says {version}");
        }

        slots = new Dictionary<string, SlotContent>(state.Slots, StringComparer.Ordinal) { [slot] = new SlotContent(version, target.Path, target.Sha256) };
        state = state with { Installing = null, Slots = slots };
        state.Save(_layout.State);
        FaultPoints.Reach("installed");
        log($"version {version} is in slot {slot}");
        return state;
    }

    private async Task<AgentState> SwitchAsync(AgentState state)
    {
        var slot = state.Inactive;
        await StopServerAsync();
        var switched = state with { Previous = state.Active, Active = slot, Trial = new TrialState(slot, 0, time.GetUtcNow()) };
        switched.Save(_layout.State); // the switch: one atomic write
        FaultPoints.Reach("switched");
        log($"switched to slot {slot} (version {switched.ActiveVersion}); on trial");
        Event("update-switched", writer => Fields(writer, switched, null));
        return switched;
    }

    private async Task TelemetryTickAsync(CancellationToken stop)
    {
        // Metrics are queued only for a receiver: without one, the queue keeps the events alone.
        if (options.TelemetryUrl is not null && _server is { } server)
        {
            try
            {
                var metrics = await _http.GetStringAsync(new Uri(server.Address, "/metrics"), stop);
                Event("metrics", writer => writer.WriteString("prometheus", metrics.Length > 60_000 ? metrics[..60_000] : metrics));
                var sketch = await _http.GetByteArrayAsync(new Uri(server.Address, "/v2/edge/sketches"), stop);
                using var parsed = JsonDocument.Parse(sketch);
                if (parsed.RootElement.GetProperty("models").EnumerateObject().Any())
                {
                    Event("drift-sketch", writer =>
                    {
                        writer.WritePropertyName("window");
                        parsed.RootElement.WriteTo(writer);
                    });
                }
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException)
            {
                log($"metrics or the drift sketch were not readable: {e.Message}");
            }
        }

        if (options.TelemetryUrl is { } url)
        {
            var sent = await new TelemetryForwarder(_http, url, _telemetry).ForwardAsync(stop);
            if (sent > 0)
            {
                log($"forwarded {sent} telemetry record(s)");
            }
        }
    }

    private ProcessStartInfo ServerStart(string slot)
    {
        var bundled = Path.Combine(slot, Bundle.ServerBinary);
        var program = File.Exists(bundled) ? bundled : options.DefaultServer ?? Environment.ProcessPath!;
        var start = new ProcessStartInfo(program);
        if (Path.GetFileNameWithoutExtension(program) == "dotnet")
        {
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "turbine-edge.dll")); // a framework-dependent build (tests)
        }

        foreach (var argument in new[] { "--model-repository", Path.Combine(slot, "models"), "--host", options.Host, "--http-port", options.HttpPort.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        if (options.AllowRoot)
        {
            start.ArgumentList.Add("--allow-root");
        }

        if (options.Threads > 0)
        {
            start.ArgumentList.Add("--threads");
            start.ArgumentList.Add(options.Threads.ToString(CultureInfo.InvariantCulture));
        }

        // A bundled server finds ONNX Runtime's library beside the agent.
        start.Environment["LD_LIBRARY_PATH"] = AppContext.BaseDirectory;
        return start;
    }

    private async Task StopServerAsync()
    {
        if (_server is { } server)
        {
            _server = null;
            await server.DisposeAsync();
            File.Delete(_layout.ServerPid);
        }
    }

    private void StopLeftoverServer()
    {
        // A killed agent leaves its server running (its service manager normally stops the whole group); it would hold
        // the port, so it goes before anything starts.
        if (File.Exists(_layout.ServerPid) && int.TryParse(File.ReadAllText(_layout.ServerPid), CultureInfo.InvariantCulture, out var pid)
            && File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains(Path.Combine(_layout.Root, "slots"), StringComparison.Ordinal))
        {
            log($"stopping the server (pid {pid}) a previous run left behind");
            Posix.KillAndWait(pid, TimeSpan.FromSeconds(2));
        }

        File.Delete(_layout.ServerPid);
    }

    private TimeSpan Backoff() => TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * (1 << Math.Min(_crashesInARow, 7))));

    private void Event(string kind, Action<Utf8JsonWriter> fields) => _telemetry.Append(kind, fields);

    private static void Fields(Utf8JsonWriter writer, AgentState state, string? detail)
    {
        writer.WriteString("slot", state.Active);
        writer.WriteNumber("version", state.ActiveVersion);
        if (detail is not null)
        {
            writer.WriteString("detail", detail);
        }
    }

    private static long BundleVersion(TargetFile target) =>
        target.Custom.ValueKind == JsonValueKind.Object && target.Custom.TryGetProperty("version", out var version) && version.TryGetInt64(out var number) ? number : 0;

    /// <summary>Unpacks a bundle into its slot's staging folder and renames that over the slot (emptied first).</summary>
    private static BundleManifest UnpackIntoSlot(AgentLayout layout, string slot, string bundle, BundleLimits limits, Action? entryWritten)
    {
        RemoveTree(layout.Slot(slot));
        RemoveTree(layout.Staging(slot));
        var manifest = Bundle.Extract(bundle, layout.Staging(slot), limits, entryWritten);
        Directory.Move(layout.Staging(slot), layout.Slot(slot));
        DurableFile.FlushFolder(Path.GetDirectoryName(layout.Slot(slot))!);
        return manifest;
    }

    private static void RemoveTree(string folder)
    {
        if (Directory.Exists(folder))
        {
            Bundle.MakeWritable(folder);
            Directory.Delete(folder, recursive: true);
        }
    }
}
