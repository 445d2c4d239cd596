using System.Text;
using OpenQA.Selenium;

namespace Warden.Console.Tests;

/// <summary>The console page in headless Chromium: browse, see data, and see changes arrive without a reload.</summary>
public sealed class ConsoleBrowserTests(ConsoleServer console) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task BrowsingToANodeShowsItsDataAndChangesArriveWithoutReloading()
    {
        await console.Client.CreateAsync("/app", null);
        await console.Client.CreateAsync("/app/config", "{\"replicas\":3}"u8.ToArray());
        using var browser = new Browser();
        browser.Driver.Navigate().GoToUrl(console.BaseUrl + "/");
        browser.WaitFor(d => d.FindElement(By.Id("live-status")).Text == "live", "the change stream to be ready");

        browser.Element(Browser.Item("/app") + " > .toggle").Click();
        browser.Element(Browser.Item("/app/config") + " > .name").Click();
        browser.WaitFor(d => d.FindElement(By.Id("node-data")).Text == "{\"replicas\":3}", "the node's data as text");
        Assert.Equal("/app/config", browser.TextOf("#node-path"));
        Assert.Contains("world:anyone", browser.TextOf("#acl"));

        browser.Element("#view-json").Click();
        browser.WaitFor(d => d.FindElement(By.Id("node-data")).Text.Contains("\"replicas\": 3"), "the data as pretty JSON");
        browser.Element("#view-hex").Click();
        browser.WaitFor(d => d.FindElement(By.Id("node-data")).Text.StartsWith("00000000  7b 22 72 65", StringComparison.Ordinal), "the data in hex");
        browser.Element("#view-text").Click();

        // Marks the page, so a reload (which would lose the mark) cannot pass for a live update.
        browser.Driver.ExecuteScript("window.notReloaded = true;");
        await console.Client.SetDataAsync("/app/config", "{\"replicas\":5}"u8.ToArray());
        browser.WaitFor(d => d.FindElement(By.Id("node-data")).Text == "{\"replicas\":5}", "the new data without a reload");
        await console.Client.CreateAsync("/app/feature", "on"u8.ToArray());
        browser.Element(Browser.Item("/app/feature"));
        await console.Client.DeleteAsync("/app/feature");
        browser.WaitFor(d => d.FindElements(By.CssSelector(Browser.Item("/app/feature"))).Count == 0, "the deleted node to go");

        Assert.Equal(true, browser.Driver.ExecuteScript("return window.notReloaded === true;"));
        var names = browser.Driver.FindElements(By.CssSelector(Browser.Item("/app") + " > ul > li > .name")).Select(e => e.Text);
        Assert.Equal(["config"], names);
    }

    [Fact]
    public async Task WritesNeedALoginAndAConfirmation()
    {
        await console.Client.CreateAsync("/editable", "old"u8.ToArray());
        using var browser = new Browser();
        browser.Driver.Navigate().GoToUrl(console.BaseUrl + "/");
        browser.Element(Browser.Item("/editable") + " > .name").Click();
        browser.WaitFor(d => d.FindElement(By.Id("node-data")).Text == "old", "the node's data");
        Assert.False(browser.Driver.FindElement(By.Id("writes")).Displayed);

        browser.Element("#login-password").SendKeys("wrong");
        browser.Element("#login-button").Click();
        browser.WaitFor(d => d.FindElement(By.Id("message")).Text.Contains("does not match"), "the refused login");
        Assert.False(browser.Driver.FindElement(By.Id("writes")).Displayed);

        browser.Element("#login-password").Clear();
        browser.Element("#login-password").SendKeys(ConsoleServer.SuperPassword);
        browser.Element("#login-button").Click();
        browser.WaitFor(d => d.FindElement(By.Id("login-state")).Text == "logged in as super", "the login");
        browser.Element("#edit-data").SendKeys("new");

        browser.Element("#set-button").Click();
        var dismissed = browser.WaitFor(d => d.SwitchTo().Alert(), "the confirmation");
        Assert.Equal("Set the data of /editable?", dismissed.Text);
        dismissed.Dismiss();
        Assert.Equal("old", Encoding.UTF8.GetString((await console.Client.GetDataAsync("/editable")).Data));

        browser.Element("#set-button").Click();
        browser.WaitFor(d => d.SwitchTo().Alert(), "the confirmation").Accept();
        browser.WaitFor(d => d.FindElement(By.Id("node-data")).Text == "new", "the data the page set");
        Assert.Equal("new", Encoding.UTF8.GetString((await console.Client.GetDataAsync("/editable")).Data));

        browser.Element(Browser.Item("/editable") + " > .toggle").Click();
        browser.Element("#child-name").SendKeys("made-here");
        browser.Element("#create-button").Click();
        var create = browser.WaitFor(d => d.SwitchTo().Alert(), "the confirmation");
        Assert.Equal("Create /editable/made-here?", create.Text);
        create.Accept();
        browser.Element(Browser.Item("/editable/made-here"));
        Assert.NotNull(await console.Client.ExistsAsync("/editable/made-here"));

        browser.Element(Browser.Item("/editable/made-here") + " > .name").Click();
        browser.WaitFor(d => d.FindElement(By.Id("node-path")).Text == "/editable/made-here", "the new node selected");
        browser.Element("#delete-button").Click();
        var delete = browser.WaitFor(d => d.SwitchTo().Alert(), "the confirmation");
        Assert.Equal("Delete /editable/made-here?", delete.Text);
        delete.Accept();
        browser.WaitFor(d => d.FindElements(By.CssSelector(Browser.Item("/editable/made-here"))).Count == 0, "the deleted node to go");
        Assert.Null(await console.Client.ExistsAsync("/editable/made-here"));
    }

    [Fact]
    public async Task ALargeNodeShowsItsChildrenAPageAtATime()
    {
        await console.Client.CreateAsync("/many", null);
        await Task.WhenAll(Enumerable.Range(0, 150).Select(i => console.Client.CreateAsync($"/many/n{i:D3}", null)));
        using var browser = new Browser();
        browser.Driver.Navigate().GoToUrl(console.BaseUrl + "/");
        browser.Element(Browser.Item("/many") + " > .toggle").Click();
        const string children = "li[data-path=\"/many\"] > ul > li[data-path]";
        browser.WaitFor(d => d.FindElements(By.CssSelector(children)).Count == 100, "the first page");
        Assert.Equal("/many/n099", browser.Driver.FindElements(By.CssSelector(children))[^1].GetAttribute("data-path"));

        browser.Element(Browser.Item("/many") + " > ul > li > .more").Click();
        browser.WaitFor(d => d.FindElements(By.CssSelector(children)).Count == 150, "the second page");
        Assert.Empty(browser.Driver.FindElements(By.CssSelector(Browser.Item("/many") + " > ul > li > .more")));
        Assert.Equal("/many/n149", browser.Driver.FindElements(By.CssSelector(children))[^1].GetAttribute("data-path"));
    }

    [Fact]
    public void TheEnsembleAndConnectionsTabsShowTheServer()
    {
        using var browser = new Browser();
        browser.Driver.Navigate().GoToUrl(console.BaseUrl + "/");
        browser.Element("button[data-tab=\"ensemble-tab\"]").Click();
        browser.WaitFor(d => d.FindElement(By.Id("server")).Text.Contains("mode standalone"), "this server's mode");
        browser.Element("button[data-tab=\"connections-tab\"]").Click();
        // The test's own session and the console's are both connections; each row shows its session.
        browser.WaitFor(d => d.FindElements(By.CssSelector("#connections tr")).Count >= 3, "the connections");
        string sessionId = "0x" + console.Client.SessionId.Value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(sessionId, browser.TextOf("#connections"));
        Assert.False(browser.Driver.FindElement(By.Id("tree-tab")).Displayed);
    }
}
