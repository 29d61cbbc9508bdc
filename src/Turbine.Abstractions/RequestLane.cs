namespace Turbine;

/// <summary>The lanes of a model version's queue.</summary>
public enum RequestLane
{
    /// <summary>Interactive traffic: the priority levels of the model's configuration, served first.</summary>
    Online,

    /// <summary>
    /// Bulk work: taken only when no online request waits, bounded on its own, and with a cap on the rows it may have
    /// running at once, so it never holds every instance of the model.
    /// </summary>
    Background,
}
