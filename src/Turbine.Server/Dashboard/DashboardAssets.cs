namespace Turbine.Server.Dashboard;

/// <summary>The dashboard's files, built into the server assembly as resources named <c>dashboard/&lt;path&gt;</c>.</summary>
internal static class DashboardAssets
{
    private static readonly System.Reflection.Assembly Assembly = typeof(DashboardAssets).Assembly;
    private static readonly HashSet<string> Names = new(Assembly.GetManifestResourceNames(), StringComparer.Ordinal);

    /// <summary>The named file, or null when the dashboard has none (only names the build put in are looked up).</summary>
    public static Stream? Open(string name) => Names.Contains(name) ? Assembly.GetManifestResourceStream(name) : null;

    public static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };
}
