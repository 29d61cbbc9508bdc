using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// The web dashboard in a real headless Chromium (Debian's, driven by Playwright) against a real server with real
/// traffic: the pages load, charts receive live points, actions from the page change the server's state, the figures
/// refuse a caller without the token, and each page's screenshot is kept (TestResults/dashboard).
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private const string Token = "dashboard-test-token-0123456789";
    private const string Chromium = "/usr/bin/chromium";

    private readonly FolderServer _server = new();
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private SteadyTraffic _traffic = null!;
    private HttpClient _http = null!;
    private string _jobs = null!;

    public async Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""")
            .Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8, "version_policy": { "all": {} } }""", version: 2)
            .Add("mlp", SampleModels.Mlp());
        await MonitoredClassifier.AddAsync(_server.Folder, """
            { "max_batch_size": 64, "monitoring": { "probabilities": "probabilities", "window_rows": 200, "min_rows": 100,
              "quality": { "rules": [ { "feature": "features[2]", "min": -4, "max": 4, "policy": "flag" } ] } } }
            """, rows: 400);
        _server.Configuration.Add("--Turbine:Observer:SampleRate=1");
        _jobs = Directory.CreateTempSubdirectory("turbine-dashboard-jobs-").FullName;
        Directory.CreateDirectory(Path.Combine(_jobs, "data"));
        await File.WriteAllTextAsync(Path.Combine(_jobs, "data", "in.csv"), "id,a,b,c,d\n1,0.5,1,2,3\n");
        await _server.StartAsync(options =>
        {
            options.Management.Token = Token;
            options.Dashboard.Interval = TimeSpan.FromMilliseconds(250);
            options.Jobs.Folder = _jobs;
            options.Jobs.Workers = 0; // the API only: the page lists what the store holds
        });
        _http = new HttpClient { BaseAddress = _server.Http.BaseAddress };
        _http.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        await PutAsync("v2/routes/checkout", """{"variants":[{"model":"simple","version":"1","weight":1},{"model":"simple","version":"2","weight":1}],"shadow":{"model":"simple","share":0.5,"max_cpu":1}}""");
        await PutAsync("v2/routes/rollout", """
            {"variants":[{"model":"simple","version":"1"},{"model":"simple","version":"2"}],
             "canary":{"steps":[50,100],"min_step_duration_s":3600,"min_step_requests":100000,"max_error_rate":0.01,"max_p99_ms":250}}
            """);

        await PutAsync("v2/pipelines/twice", """
            {"steps":[{"name":"first","model":"simple","input_map":{"INPUT0":"a","INPUT1":"b"},"output_map":{"OUTPUT0":"sum"}},
                      {"name":"second","model":"simple","input_map":{"INPUT0":"sum","INPUT1":"b"},"output_map":{"OUTPUT0":"total"}}]}
            """);
        _traffic = new SteadyTraffic(new TurbineHttpClient(_server.Http), "checkout", clients: 2);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _traffic.StopAsync();
        _traffic.Dispose();
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_jobs, recursive: true);
    }

    [Fact]
    public async Task The_pages_load_charts_go_live_and_actions_change_the_server()
    {
        var page = await SignedInPageAsync(1280, 900);

        // Overview: the figures and charts fill in from the stream while the route takes traffic.
        await Assertions.Expect(page.Locator("[data-card='Versions ready']")).ToHaveTextAsync("4");
        var requests = page.Locator("section.chart").First.Locator("polyline").First;
        await page.WaitForFunctionAsync("() => Number(document.querySelector('section.chart polyline')?.dataset.points) >= 3");
        var before = int.Parse((await requests.GetAttributeAsync("data-points"))!, System.Globalization.CultureInfo.InvariantCulture);
        await page.WaitForFunctionAsync($"() => Number(document.querySelector('section.chart polyline').dataset.points) > {before}");
        await page.WaitForFunctionAsync("() => !document.querySelector('[data-card=\"Requests\"]').textContent.startsWith('0')");
        await ScreenshotAsync(page, "overview");

        // Models: searched and opened; a label set from the page lands on the server.
        await page.GetByRole(AriaRole.Link, new() { Name = "Models", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search models" }).FillAsync("simp");
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(2);
        await ScreenshotAsync(page, "models");
        await page.Locator("tbody tr").First.GetByRole(AriaRole.Link).ClickAsync();
        await Assertions.Expect(page.Locator("[data-field='versions']")).ToHaveTextAsync("1, 2");
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Label" }).FillAsync("stable");
        await page.GetByRole(AriaRole.Combobox, new() { Name = "Version" }).SelectOptionAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set label" }).ClickAsync();
        await page.Locator("#confirm-ok").ClickAsync();
        await Assertions.Expect(page.Locator("[data-field='labels']")).ToHaveTextAsync("stable → 1");
        Assert.Equal("1", (await GetJsonAsync("v2/repository/models/simple/versions")).GetProperty("labels").GetProperty("stable").GetString());
        await ScreenshotAsync(page, "model");

        // Routes: a weight moved on the page moves the route's traffic; the shadow's agreement shows.
        await page.GetByRole(AriaRole.Link, new() { Name = "Routes", Exact = true }).ClickAsync();
        await ScreenshotAsync(page, "routes");
        await page.GetByRole(AriaRole.Link, new() { Name = "checkout", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-field='exact']")).ToHaveTextAsync("100%");
        await page.GetByRole(AriaRole.Spinbutton, new() { Name = "Weight of simple:2" }).FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save weights" }).ClickAsync();
        await page.Locator("#confirm-ok").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Done." })).ToBeVisibleAsync();
        var variants = (await GetJsonAsync("v2/routes/checkout")).GetProperty("variants");
        Assert.Equal(0, variants[1].GetProperty("weight").GetDouble());
        await ScreenshotAsync(page, "route");

        // A canary: its gates against their limits and its audit log; paused from the page.
        await page.GotoAsync($"{_server.Http.BaseAddress}dashboard/#/routes/rollout");
        await Assertions.Expect(page.Locator("[data-field='canary-state']")).ToHaveTextAsync("running");
        await Assertions.Expect(page.Locator("[data-field='audit'] tr")).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Button, new() { Name = "pause" }).ClickAsync();
        await page.Locator("#confirm-ok").ClickAsync();
        await Assertions.Expect(page.Locator("[data-field='canary-state']")).ToHaveTextAsync("paused");
        Assert.Equal("paused", (await GetJsonAsync("v2/routes/rollout/canary")).GetProperty("state").GetString());
        await ScreenshotAsync(page, "canary");

        // Pipelines: the graph drawn from what each step reads, with its steps' figures.
        using (var piped = await _http.PostAsync("v2/models/twice/infer", new StringContent(
            """{"inputs":[{"name":"a","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"INT32","data":[1,1,1,1]}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, piped.StatusCode);
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "Pipelines", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("svg.graph g[data-step]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("svg.graph line")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-step-row='second'] td").Nth(2)).ToHaveTextAsync("1");
        await ScreenshotAsync(page, "pipelines");

        // Jobs: a queued job (this server runs no workers) is cancelled from the page.
        await PostAsync("v2/jobs", """{"id": "nightly", "model": "mlp", "input": "data/in.csv", "output": "out/nightly", "inputs": {"features": ["a", "b", "c", "d"]}, "keys": ["id"]}""");
        await page.GetByRole(AriaRole.Link, new() { Name = "Jobs", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-job='nightly']")).ToContainTextAsync("queued");
        await page.Locator("[data-job='nightly']").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await page.Locator("#confirm-ok").ClickAsync();
        await Assertions.Expect(page.Locator("[data-job='nightly']")).ToContainTextAsync("cancelled");
        Assert.Equal("cancelled", (await GetJsonAsync("v2/jobs/nightly")).GetProperty("state").GetString());
        await ScreenshotAsync(page, "jobs");

        // Monitoring: shifted traffic drifts every feature of the monitored classifier; a flagged row counts against its rule.
        var random = new Random(5);
        await MonitoredClassifier.SendAsync(_server, random, rows: 200, shift: 2.5);
        using (var flagged = await _server.Http.PostAsync("v2/models/clf/infer", MonitoredClassifier.Request([[0, 1, 9]])))
        {
            Assert.Equal(HttpStatusCode.OK, flagged.StatusCode);
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "Monitoring", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-drift='clf'] td", new() { HasText = "yes" }).First).ToBeVisibleAsync();
        var broken = MonitoredClassifier.Monitor(_server).Quality.Checks.Single().Broken; // the shifted rows past 4, and the one sent
        Assert.True(broken >= 1);
        await Assertions.Expect(page.Locator("[data-rule='features[2]:range'] td").Last).ToHaveTextAsync(broken.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator("[data-cost='simple']").First).ToBeVisibleAsync(); // cost attribution is on by default
        await ScreenshotAsync(page, "monitoring");
    }

    [Fact]
    public async Task Two_hundred_models_page_and_search_and_the_keyboard_reaches_every_section()
    {
        await using var many = new FolderServer();
        var model = SampleModels.Identity(DataType.Fp32, -1);
        for (var i = 0; i < 200; i++)
        {
            many.Folder.Add($"m{i:D3}", model);
        }

        await many.StartAsync(options => options.Dashboard.Interval = TimeSpan.FromMilliseconds(250));
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{many.Http.BaseAddress}dashboard/"); // loopback without a token: no sign-in
        await Assertions.Expect(page.Locator("[data-card='Versions ready']")).ToHaveTextAsync("200");

        await page.Keyboard.PressAsync("Tab"); // skip link
        await page.Keyboard.PressAsync("Tab"); // brand
        await page.Keyboard.PressAsync("Tab"); // Overview
        await page.Keyboard.PressAsync("Tab"); // Models
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#/models$"));
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(25);
        await Assertions.Expect(page.GetByText("page 1 of 8")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(page.Locator("tbody tr").First).ToHaveAttributeAsync("data-model", "m025");
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search models" }).FillAsync("m19");
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(10);
        var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");
        Assert.False(overflow);
        await ScreenshotAsync(page, "models-200");
    }

    [Fact]
    public async Task The_registry_page_shows_aliases_and_their_history_where_the_server_has_a_registry()
    {
        var folder = Directory.CreateTempSubdirectory("turbine-dashboard-registry-").FullName;
        try
        {
            await using var server = new FolderServer();
            server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
            await server.StartAsync(options => options.Registry.Folder = folder);
            foreach (var version in new[] { 1, 2 })
            {
                using var archive = new MemoryStream();
                using (var zip = new System.IO.Compression.ZipArchive(archive, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
                {
                    using var entry = zip.CreateEntry($"{version}/model.onnx").Open();
                    entry.Write(SampleModels.AddSub(DataType.Int32, 4));
                }

                using var push = new ByteArrayContent(archive.ToArray());
                push.Headers.ContentType = new("application/zip");
                using var pushed = await server.Http.PostAsync("v2/registry/models/fraud/versions", push);
                Assert.True(pushed.IsSuccessStatusCode, await pushed.Content.ReadAsStringAsync());
            }

            foreach (var version in new[] { 1, 2 })
            {
                using var alias = await server.Http.PutAsync("v2/registry/models/fraud/aliases/production", new StringContent($$"""{"version": {{version}}}""", Encoding.UTF8, "application/json"));
                Assert.True(alias.IsSuccessStatusCode, await alias.Content.ReadAsStringAsync());
            }

            var page = await (await _browser.NewContextAsync()).NewPageAsync();
            await page.GotoAsync($"{server.Http.BaseAddress}dashboard/"); // loopback without a token: no sign-in
            await page.GetByRole(AriaRole.Link, new() { Name = "Registry", Exact = true }).ClickAsync();
            await Assertions.Expect(page.Locator("[data-registry='fraud'] [data-field='aliases']")).ToHaveTextAsync("production → 2");
            await Assertions.Expect(page.Locator("[data-registry='fraud'] tbody tr").First).ToContainTextAsync("production");
            await ScreenshotAsync(page, "registry");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_dark_theme_follows_the_browser()
    {
        var page = await SignedInPageAsync(1280, 900, ColorScheme.Dark);

        var background = await page.EvaluateAsync<string>("() => getComputedStyle(document.documentElement).backgroundColor");
        Assert.Equal("rgb(15, 18, 22)", background);
        await Assertions.Expect(page.Locator("[data-card='Versions ready']")).ToHaveTextAsync("4");
        await page.GotoAsync($"{_server.Http.BaseAddress}dashboard/#/models/simple");
        await Assertions.Expect(page.Locator("[data-section='batches'] meter").First).ToBeVisibleAsync();
        await ScreenshotAsync(page, "model-dark");
    }

    [Fact]
    public async Task A_phone_sized_viewport_keeps_the_overview_readable()
    {
        var page = await SignedInPageAsync(390, 844);

        await Assertions.Expect(page.Locator("[data-card='Versions ready']")).ToHaveTextAsync("4");
        var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");
        Assert.False(overflow, "the overview scrolls sideways on a phone-sized viewport");
        await ScreenshotAsync(page, "overview-phone");
    }

    [Fact]
    public async Task The_figures_refuse_a_caller_without_the_token_and_the_dashboard_is_off_with_the_management_api()
    {
        using (var anonymous = await _server.Http.GetAsync("dashboard/api/snapshot"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, "dashboard/api/stream"))
        {
            wrong.Headers.Authorization = new("Bearer", "not-the-token-at-all-00000000");
            using var refused = await _server.Http.SendAsync(wrong);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var history = await _http.GetAsync("dashboard/api/history?seconds=60"))
        {
            Assert.Equal(HttpStatusCode.OK, history.StatusCode);
            var snapshots = JsonDocument.Parse(await history.Content.ReadAsStringAsync()).RootElement;
            Assert.True(snapshots.GetArrayLength() > 0);
            Assert.Contains(snapshots[snapshots.GetArrayLength() - 1].GetProperty("models").EnumerateArray(), m => m.GetProperty("name").GetString() == "mlp");
        }

        await using var closed = new FolderServer();
        closed.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        await closed.StartAsync(options => options.Management.Enabled = false);
        using var off = await closed.Http.GetAsync("dashboard/");
        Assert.Equal(HttpStatusCode.NotFound, off.StatusCode);
    }

    /// <summary>A page on the dashboard, signed in with the token through the page's own dialog.</summary>
    private async Task<IPage> SignedInPageAsync(int width, int height, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, ColorScheme = scheme });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync($"{_server.Http.BaseAddress}dashboard/");
        await page.Locator("#login-token").FillAsync(Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#live")).ToContainTextAsync("live");
        Assert.Empty(errors);
        return page;
    }

    private async Task PostAsync(string path, string json)
    {
        using var response = await _http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task PutAsync(string path, string json)
    {
        using var response = await _http.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Keeps a screenshot of the page as a test artifact: TestResults/dashboard/NAME.png beside the test project's output.</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }
}
