using Turbine.Core.Statistics;

namespace Turbine.Traffic;

/// <summary>
/// The statistics of an A/B report: the two-proportion z-test for conversion rates, Welch's t-test for numeric
/// outcomes, and the distributions they need (normal and Student's t, the latter through the regularized incomplete
/// beta function, evaluated with Lentz's continued fraction).
/// </summary>
public static class TwoSampleTests
{
    /// <summary>Two-sided two-proportion z-test with the pooled proportion; p is 1 when either sample is empty.</summary>
    public static (double Z, double P) TwoProportionZ(long successesA, long trialsA, long successesB, long trialsB)
    {
        if (trialsA == 0 || trialsB == 0)
        {
            return (0, 1);
        }

        var pA = (double)successesA / trialsA;
        var pB = (double)successesB / trialsB;
        var pooled = (double)(successesA + successesB) / (trialsA + trialsB);
        var error = Math.Sqrt(pooled * (1 - pooled) * ((1.0 / trialsA) + (1.0 / trialsB)));
        if (error == 0)
        {
            return (0, 1);
        }

        var z = (pB - pA) / error;
        return (z, 2 * NormalCdf(-Math.Abs(z)));
    }

    /// <summary>Two-sided Welch's t-test from each sample's count, mean and (n-1) variance; p is 1 with fewer than 2 per sample.</summary>
    public static (double T, double DegreesOfFreedom, double P) WelchT(long countA, double meanA, double varianceA, long countB, double meanB, double varianceB)
    {
        if (countA < 2 || countB < 2)
        {
            return (0, 0, 1);
        }

        var a = varianceA / countA;
        var b = varianceB / countB;
        if (a + b == 0)
        {
            return (0, countA + countB - 2, 1);
        }

        var t = (meanB - meanA) / Math.Sqrt(a + b);
        var df = (a + b) * (a + b) / ((a * a / (countA - 1)) + (b * b / (countB - 1)));
        return (t, df, 2 * StudentTCdf(-Math.Abs(t), df));
    }

    /// <summary>Wilson's 95% interval for a proportion (sound at small counts and rates near 0 or 1).</summary>
    public static (double Low, double High) WilsonInterval(long successes, long trials)
    {
        if (trials == 0)
        {
            return (0, 1);
        }

        const double Z = 1.959963984540054;
        var p = (double)successes / trials;
        var centre = (p + (Z * Z / (2 * trials))) / (1 + (Z * Z / trials));
        var half = Z * Math.Sqrt((p * (1 - p) / trials) + (Z * Z / (4.0 * trials * trials))) / (1 + (Z * Z / trials));
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>The 95% interval of a mean: mean ± t(0.975, n-1) · s/√n.</summary>
    public static (double Low, double High) MeanInterval(long count, double mean, double variance)
    {
        if (count < 2)
        {
            return (double.NegativeInfinity, double.PositiveInfinity);
        }

        var half = StudentTQuantile(0.975, count - 1) * Math.Sqrt(variance / count);
        return (mean - half, mean + half);
    }

    /// <summary>Standard normal CDF, through the complementary error function.</summary>
    public static double NormalCdf(double x) => 0.5 * Distributions.Erfc(-x / Math.Sqrt(2));

    /// <summary>Student's t CDF with <paramref name="df"/> degrees of freedom.</summary>
    public static double StudentTCdf(double t, double df)
    {
        var tail = 0.5 * RegularizedIncompleteBeta(df / 2, 0.5, df / (df + (t * t)));
        return t < 0 ? tail : 1 - tail;
    }

    /// <summary>The quantile of Student's t, by bisection on the CDF (reports need a handful, not speed).</summary>
    public static double StudentTQuantile(double probability, double df)
    {
        double low = -1e3, high = 1e3;
        for (var i = 0; i < 200; i++)
        {
            var middle = (low + high) / 2;
            if (StudentTCdf(middle, df) < probability)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return (low + high) / 2;
    }

    /// <summary>I_x(a, b), by the continued fraction of Numerical Recipes' betacf (Lentz), using the symmetry for x past the mean.</summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        var front = Math.Exp(Distributions.LogGamma(a + b) - Distributions.LogGamma(a) - Distributions.LogGamma(b) + (a * Math.Log(x)) + (b * Math.Log(1 - x)));
        return x < (a + 1) / (a + b + 2)
            ? front * ContinuedFraction(a, b, x) / a
            : 1 - (front * ContinuedFraction(b, a, 1 - x) / b);
    }

    private static double ContinuedFraction(double a, double b, double x)
    {
        const double Tiny = 1e-300;
        double c = 1, d = 1 - ((a + b) * x / (a + 1));
        d = Math.Abs(d) < Tiny ? Tiny : d;
        d = 1 / d;
        var result = d;
        for (var m = 1; m <= 300; m++)
        {
            var m2 = 2 * m;
            var even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + (even * d);
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1 + (even / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            result *= d * c;
            var odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + (odd * d);
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1 + (odd / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            var step = d * c;
            result *= step;
            if (Math.Abs(step - 1) < 1e-15)
            {
                break;
            }
        }

        return result;
    }
}
