namespace Turbine.Traffic;

/// <summary>How a compiled route begins, which decides what it reads back from the state store.</summary>
internal enum RouteStart
{
    /// <summary>Set through this server: its rollout starts, its figures start from zero.</summary>
    Fresh,

    /// <summary>Read back at start (saved, or declared by the configuration): figures and rollout progress resume.</summary>
    Resume,

    /// <summary>Set through another replica: this replica's figures start from zero, the rollout follows the progress saved.</summary>
    Follow,
}
