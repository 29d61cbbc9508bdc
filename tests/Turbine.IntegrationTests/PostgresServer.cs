using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Turbine.IntegrationTests;

/// <summary>
/// A real PostgreSQL server (the Debian package; .ci/run installs it): <c>initdb</c> into a fresh temporary folder,
/// then <c>postgres</c> on a free loopback port with trust authentication and fsync off, killed and deleted after the
/// test. As root (CI), both run as the package's <c>postgres</c> user, since PostgreSQL refuses to run as root.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _data;
    private Process? _process;

    private PostgresServer(string bin, string data, int port)
    {
        _bin = bin;
        _data = data;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A connection string to the database of this test.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=turbine;Pooling=true";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)");
        }

        var data = Path.Combine(Path.GetTempPath(), "turbine-pg-" + Guid.NewGuid().ToString("N"));
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            var server = new PostgresServer(bin, data, ((IPEndPoint)probe.LocalEndpoint).Port);
            probe.Stop();
            await server.RunAsync("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
            await server.StartProcessAsync();
            await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={server.Port};Username=postgres;Database=postgres");
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE DATABASE turbine", connection);
            await create.ExecuteNonQueryAsync();
            return server;
        }
    }

    /// <summary>
    /// Stops the server as a crash would (pg_ctl's immediate mode: no checkpoint, connections cut) and waits until it is
    /// gone; the data stays for <see cref="RestartAsync"/>.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            await RunAsync("pg_ctl", "stop", "-D", _data, "-m", "immediate", "-w");
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the server again on the same port and data.</summary>
    public Task RestartAsync() => StartProcessAsync();

    /// <summary>Runs one query and returns the first column of every row as text.</summary>
    public async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetValue(0) is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // a file still held by a dying process: the temporary folder is the system's to clean
        }
    }

    private async Task StartProcessAsync()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process = Start(
            "postgres", "-D", _data, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-h", "127.0.0.1", "-k", _data,
            "-F", "-c", "max_connections=200", "-c", "shared_buffers=16MB");
        DataReceivedEventHandler watch = (_, line) =>
        {
            if (line.Data is { } text)
            {
                log.Enqueue(text);
                if (text.Contains("ready to accept connections", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            }
        };
        _process.OutputDataReceived += watch;
        _process.ErrorDataReceived += watch;
        _process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("postgres exited: " + string.Join('\n', log)));
        _process.EnableRaisingEvents = true;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task RunAsync(string tool, params string[] arguments)
    {
        using var process = Start(tool, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {await output}{await errors}");
        }
    }

    /// <summary>Starts one of PostgreSQL's programs, as the <c>postgres</c> user when this process is root.</summary>
    private Process Start(string tool, params string[] arguments)
    {
        var asRoot = Environment.UserName == "root";
        var start = new ProcessStartInfo(asRoot ? "runuser" : Path.Combine(_bin, tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asRoot)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", Path.Combine(_bin, tool) })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
