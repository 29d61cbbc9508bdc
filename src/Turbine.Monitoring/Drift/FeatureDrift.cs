namespace Turbine.Monitoring.Drift;

/// <summary>
/// One feature's drift over the window: the verdict of its method, and every statistic that applies to it beside
/// (null where it does not: Kolmogorov-Smirnov and Wasserstein on categories, chi-square and z on numbers).
/// </summary>
/// <param name="Name">The feature.</param>
/// <param name="IsOutput">Whether it is an output (prediction drift).</param>
/// <param name="Method">The method that judges.</param>
/// <param name="Score">The method's score.</param>
/// <param name="Threshold">Its level or threshold.</param>
/// <param name="Drifted">The verdict.</param>
/// <param name="Rows">Window rows with a value.</param>
/// <param name="MissingShare">The window's share of missing values.</param>
/// <param name="ReferenceMissingShare">The reference's share of missing values.</param>
/// <param name="PopulationStability">PSI.</param>
/// <param name="JensenShannon">Jensen-Shannon distance.</param>
/// <param name="KolmogorovSmirnov">Kolmogorov-Smirnov D.</param>
/// <param name="KolmogorovSmirnovP">Its p-value.</param>
/// <param name="Wasserstein">Normed Wasserstein distance.</param>
/// <param name="ChiSquareP">Chi-square p-value.</param>
/// <param name="ProportionZP">Z-test p-value.</param>
public sealed record FeatureDrift(
    string Name, bool IsOutput, DriftMethod Method, double Score, double Threshold, bool Drifted, int Rows, double MissingShare, double ReferenceMissingShare,
    double PopulationStability, double JensenShannon, double? KolmogorovSmirnov, double? KolmogorovSmirnovP, double? Wasserstein, double? ChiSquareP, double? ProportionZP);
