//! The pages on a phone's screen (390 x 844 CSS pixels, as an iPhone 12 to 15): nothing wider
//! than the screen, the header one row, the form's buttons always in reach.

use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::*;

const WIDTH: u32 = 390;
const HEIGHT: u32 = 844;

/// Everything on the page that pokes out past the right edge of the screen, except what sits
/// inside a box that scrolls on its own (a wide table in its scroller is meant to).
const OVERFLOW: &str = r#"
const width = document.documentElement.clientWidth;
const scrolls = (el) => {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
  }
  return false;
};
const out = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (r.right > width + 1 && !scrolls(el)) {
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className ? '.' + String(el.className).replace(/ /g, '.') : '') +
      ' right=' + Math.round(r.right));
  }
}
return { width, scroll: document.documentElement.scrollWidth, out: out.slice(0, 10) };
"#;

fn fits_the_screen(browser: &Browser, page: &str) {
    let found = browser.eval(OVERFLOW);
    let width = found["width"].as_f64().unwrap();
    assert!(
        found["scroll"].as_f64().unwrap() <= width,
        "{page}: the page scrolls sideways: {found}"
    );
    assert!(
        found["out"].as_array().unwrap().is_empty(),
        "{page}: wider than the screen: {found}"
    );
    let header =
        browser.eval("return document.querySelector('header').getBoundingClientRect().height");
    assert!(
        header.as_f64().unwrap() <= 64.0,
        "{page}: the header takes {header} px"
    );
    browser.screenshot(&format!("phone-{page}"));
}

fn rect(browser: &Browser, css: &str) -> Value {
    browser.eval(&format!(
        "const r = document.querySelector({css:?}).getBoundingClientRect();
         return {{ top: r.top, bottom: r.bottom, left: r.left, right: r.right }};"
    ))
}

/// A table that must stack into cards on a phone rather than scroll sideways.
fn within_the_screen(browser: &Browser, css: &str) {
    let found = browser.eval(&format!(
        "const t = document.querySelector({css:?});
         const box = t.parentElement;
         return {{ right: t.getBoundingClientRect().right,
                  table: t.scrollWidth - t.clientWidth,
                  scroller: box.scrollWidth - box.clientWidth }};"
    ));
    assert!(
        found["right"].as_f64().unwrap() <= f64::from(WIDTH)
            && found["table"].as_f64().unwrap() <= 0.0
            && found["scroller"].as_f64().unwrap() <= 0.0,
        "{css} is wider than the screen: {found}"
    );
}

/// The first commune of the district page's table whose report is not yet started.
fn a_commune_not_started(browser: &Browser) -> String {
    let href = browser.eval(
        "for (const tr of document.querySelectorAll('#completeness tbody tr')) {
           if (tr.textContent.includes('Chưa lập')) {
             const a = tr.querySelector('a'); if (a) return a.getAttribute('href');
           }
         }
         return null;",
    );
    let href = href.as_str().expect("a commune not started").to_owned();
    href.rsplit('/').next().unwrap().to_owned()
}

#[test]
fn every_page_fits_a_phone_and_the_form_keeps_its_buttons_in_reach() {
    let app = TestApp::spawn_demo();
    let browser = Browser::start();
    browser.resize(WIDTH, HEIGHT);
    let round = app.round_id;

    // The district: its home (the work queue) and its unit page.
    browser.login(&app.base, DISTRICT);
    fits_the_screen(&browser, "district-home");
    browser.go(&format!(
        "{}/ky-bao-cao/{round}/don-vi/{DISTRICT}",
        app.base
    ));
    browser.wait_for("#completeness");
    fits_the_screen(&browser, "district-unit");
    // The completeness table stacks: each commune's status is on the screen, not off to the right.
    within_the_screen(&browser, "#completeness");
    let commune = a_commune_not_started(&browser);
    browser.go(&format!(
        "{}/ky-bao-cao/{round}/chat-luong/{DISTRICT}",
        app.base
    ));
    browser.wait_for("#flags");
    fits_the_screen(&browser, "district-quality");
    within_the_screen(&browser, "#flags");
    browser.go(&format!("{}/to-khoa-giao", app.base));
    browser.wait_for("main h1");
    fits_the_screen(&browser, "district-teams");

    // The header's links fold behind «Menu» and come out when it is touched.
    assert!(
        !browser
            .eval("return document.querySelector('header nav').offsetHeight > 0")
            .as_bool()
            .unwrap()
    );
    browser.click("header label[for=menu-toggle]");
    assert!(
        browser
            .eval("return document.querySelector('header nav').offsetHeight > 0")
            .as_bool()
            .unwrap(),
        "the menu did not open"
    );
    browser.screenshot("phone-menu");
    browser.logout();

    // The commune: its home and its report form, scrolled to the middle.
    browser.login(&app.base, &commune);
    fits_the_screen(&browser, "commune-home");
    browser.go(&format!(
        "{}/ky-bao-cao/{round}/bao-cao/{commune}",
        app.base
    ));
    browser.wait_for("form.report");
    fits_the_screen(&browser, "commune-form");
    browser.eval("window.scrollTo(0, document.body.scrollHeight / 2); return 0;");
    let screen = browser.eval("return innerHeight").as_f64().unwrap();
    for button in ["#save", "#submit"] {
        let r = rect(&browser, button);
        assert!(
            r["top"].as_f64().unwrap() >= 0.0
                && r["bottom"].as_f64().unwrap() <= screen
                && r["right"].as_f64().unwrap() <= f64::from(WIDTH),
            "{button} is out of reach mid-form: {r}"
        );
    }
    browser.screenshot("phone-commune-form-middle");
    browser.go(&format!(
        "{}/ky-bao-cao/{round}/xu-huong/{commune}",
        app.base
    ));
    browser.wait_for("#series");
    fits_the_screen(&browser, "commune-series");
    browser.go(&format!("{}/to-khoa-giao", app.base));
    browser.wait_for("main h1");
    fits_the_screen(&browser, "commune-team");
    within_the_screen(&browser, "#members");
    browser.logout();

    // The province: its unit page with the districts' completeness and the rollup.
    browser.login(&app.base, PROVINCE);
    browser.go(&format!(
        "{}/ky-bao-cao/{round}/don-vi/{PROVINCE}",
        app.base
    ));
    browser.wait_for("#completeness");
    fits_the_screen(&browser, "province-unit");
    within_the_screen(&browser, "#completeness");
    // The overdue list waits behind its summary, out of the dashboard's way.
    assert!(
        !browser
            .eval("return document.querySelector('#overdue-list').open")
            .as_bool()
            .unwrap()
    );
    browser.click("#overdue-list summary");
    within_the_screen(&browser, "#overdue");
    browser.go(&format!("{}/ky-bao-cao/moi", app.base));
    browser.wait_for("main h1");
    fits_the_screen(&browser, "province-new-round");
    browser.logout();

    // The administrator's console.
    browser.go(&format!("{}/dang-nhap", app.base));
    browser.fill("#username", "admin");
    browser.fill("#password", "demo");
    browser.click("button[type=submit]");
    browser.wait_for("header nav");
    browser.go(&format!("{}/quan-tri", app.base));
    browser.wait_for("main");
    fits_the_screen(&browser, "admin");
    browser.go(&format!("{}/tai-khoan", app.base));
    browser.wait_for("main");
    fits_the_screen(&browser, "accounts");
    within_the_screen(&browser, "#accounts");
}
