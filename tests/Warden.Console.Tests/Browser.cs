using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Warden.Console.Tests;

/// <summary>
/// Headless Chromium driven through chromedriver, both from Debian's packages (chromium, chromium-driver).
/// Every wait is for a condition on the page, bounded by <see cref="ConsoleServer.Timeout"/>.
/// </summary>
public sealed class Browser : IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string DriverDirectory = "/usr/bin";
    private const string DriverName = "chromedriver";
    private readonly ChromeDriverService _service;
    private readonly string _profile = Directory.CreateTempSubdirectory("warden-console-browser-").FullName;

    public Browser()
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(Path.Combine(DriverDirectory, DriverName)))
        {
            throw new InvalidOperationException("The browser tests need Debian's chromium and chromium-driver packages; run scripts/install-test-deps.sh");
        }
        _service = ChromeDriverService.CreateDefaultService(DriverDirectory, DriverName);
        _service.HideCommandPromptWindow = true;
        _service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // --no-sandbox: the tests may run as root in a container, where Chromium's sandbox cannot start.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-breakpad", "--disable-crash-reporter", "--user-data-dir=" + _profile);
        Driver = new ChromeDriver(_service, options, ConsoleServer.Timeout);
    }

    public ChromeDriver Driver { get; }

    /// <summary>Waits, up to the bound, for a condition to hold; the message says what never appeared.</summary>
    public T WaitFor<T>(Func<IWebDriver, T?> condition, string what)
    {
        var wait = new WebDriverWait(Driver, ConsoleServer.Timeout) { Message = "waited for " + what };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition)!;
    }

    public IWebElement Element(string css) => WaitFor(d => d.FindElement(By.CssSelector(css)) is { Displayed: true } e ? e : null, css);

    public string TextOf(string css) => Driver.FindElement(By.CssSelector(css)).Text;

    public static string Item(string path) => $"li[data-path=\"{path}\"]";

    public void Dispose()
    {
        int driverProcess = _service.ProcessId;
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            _service.Dispose();
            // chromedriver is ours: if it outlived Quit, end it by its id.
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(driverProcess);
                process.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
            Directory.Delete(_profile, recursive: true);
        }
    }
}
