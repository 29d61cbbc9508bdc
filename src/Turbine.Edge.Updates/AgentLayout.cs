namespace Turbine.Edge.Updates;

/// <summary>Where things live under the agent's root folder.</summary>
public sealed class AgentLayout(string root)
{
    /// <summary>The root.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The state file.</summary>
    public string State => Path.Combine(Root, "state.json");

    /// <summary>Trusted TUF metadata (root.json provisioned).</summary>
    public string Trust => Path.Combine(Root, "trust");

    /// <summary>Downloads in progress and done.</summary>
    public string Downloads => Path.Combine(Root, "downloads");

    /// <summary>The telemetry queue.</summary>
    public string Telemetry => Path.Combine(Root, "telemetry");

    /// <summary>The running server's process id (to stop one a killed agent left behind).</summary>
    public string ServerPid => Path.Combine(Root, "server.pid");

    /// <summary>A slot's folder.</summary>
    public string Slot(string name) => Path.Combine(Root, "slots", name);

    /// <summary>A slot's unpacking folder.</summary>
    public string Staging(string name) => Path.Combine(Root, "slots", name + ".staging");
}
