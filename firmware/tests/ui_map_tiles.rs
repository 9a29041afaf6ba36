//! The map page's offline tiles in a real browser: `piwardrive demo` with tile archives put
//! into its data directory while it runs, driven by headless Chromium at phone size. The grid
//! without an archive; the PMTiles and then the MBTiles fixture (firmware/testdata/tiles,
//! made by third-party tools) drawn from /tiles/ with the tiles the Python readers read; a
//! vector archive refused in words; and never a request that leaves the device.
//!
//! Needs `chromium` and `chromedriver` on PATH, like tests/ui_browser.rs (docs/testing.md).

mod browser;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use browser::Ui;
use serde_json::Value;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tiles")
}

/// "z/x/y" -> SHA-256, as make.py's Python readers read `archive`.
fn expected_tiles(archive: &str) -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(testdata().join("manifest.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["archives"][archive]["tiles"].as_object().unwrap().clone()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tiles the page shows: the `src` of every Leaflet tile image that finished loading.
async fn loaded_tiles(ui: &Ui) -> Vec<String> {
    let v = ui
        .browser
        .js(
            "return Array.from(document.querySelectorAll('#map img.leaflet-tile-loaded')) \
             .filter(i => i.complete && i.naturalWidth === 256 && i.naturalHeight === 256) \
             .map(i => i.getAttribute('src'));",
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Every URL the page has loaded (itself, scripts, styles, fetches, images) lies on the demo.
async fn assert_all_requests_local(ui: &Ui, what: &str) {
    let urls = ui
        .browser
        .js(
            "return [location.href].concat(performance.getEntriesByType('resource') \
             .map(e => e.name));",
        )
        .await;
    let origin = ui.demo.url("/");
    let urls: Vec<&str> = urls
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert!(urls.len() > 3, "{what}: {urls:?}");
    for u in &urls {
        assert!(u.starts_with(&origin), "{what}: {u} is not on the device");
    }
}

/// Opens the map and waits until its script has drawn it and loaded the networks.
async fn open_map(ui: &Ui) {
    ui.open("/map").await;
    ui.wait_js(
        "const m = document.querySelector('#map'); \
         return !!m && m.dataset.layer !== undefined && m.dataset.loaded !== undefined;",
        Duration::from_secs(15),
    )
    .await;
}

/// What map.js drew under the networks: "tiles" or "grid".
async fn layer(ui: &Ui) -> Value {
    ui.browser
        .js("return document.querySelector('#map').dataset.layer;")
        .await
}

/// Whether map.js draws the grid now: "shown" or "hidden".
async fn grid(ui: &Ui) -> Value {
    ui.browser
        .js("return document.querySelector('#map').dataset.grid;")
        .await
}

/// Waits until the map shows tiles of `archive`, and checks each against the manifest: it
/// must be the bytes the Python readers returned for its z/x/y (fetched again here, as the
/// browser fetched it).
async fn assert_tiles_drawn(ui: &Ui, archive: &str) -> Vec<String> {
    ui.wait_js(
        "return Array.from(document.querySelectorAll('#map img.leaflet-tile-loaded')) \
         .some(i => i.complete && i.naturalWidth === 256);",
        Duration::from_secs(15),
    )
    .await;
    let want = expected_tiles(archive);
    let srcs = loaded_tiles(ui).await;
    assert!(!srcs.is_empty());
    for src in &srcs {
        let path = src.strip_prefix(&ui.demo.url("")).unwrap_or(src);
        let zxy = path
            .strip_prefix("/tiles/")
            .and_then(|p| p.split('?').next())
            .unwrap_or_else(|| panic!("{archive}: a tile from {src}, not /tiles/"));
        let (status, headers, _) = ui.demo.get(path);
        assert_eq!(status, 200, "{path}");
        assert!(
            headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "image/png"),
            "{headers:?}"
        );
        // The body of `Demo::get` is text; the bytes come from the file Chromium decoded.
        let bytes = fetch_bytes(ui, path).await;
        assert_eq!(
            Some(sha256(&bytes).as_str()),
            want.get(zxy).and_then(Value::as_str),
            "{archive}: tile {zxy} as the browser got it"
        );
    }
    srcs
}

/// `path`'s bytes as the page's own fetch gets them (with the browser's session).
async fn fetch_bytes(ui: &Ui, path: &str) -> Vec<u8> {
    let v = ui
        .browser
        .client
        .execute_async(
            "const [path, done] = arguments; \
             fetch(path, {credentials: 'same-origin'}).then(r => r.arrayBuffer()) \
             .then(b => done(Array.from(new Uint8Array(b))), e => done(String(e)));",
            vec![Value::String(path.to_owned())],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap_or_else(|| panic!("fetching {path} in the page: {v}"))
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect()
}

/// Where the demo keeps its store: `$TMPDIR/piwardrive-demo-<pid>/`, the only such folder
/// in this test's own TMPDIR.
fn demo_data_dir(tmp: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("piwardrive-demo-")
        })
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// Puts `archive` (alone) into the demo's tiles folder, as a user copies a file onto the card.
fn install(data_dir: &Path, archive: &str) {
    let tiles = data_dir.join("tiles");
    std::fs::create_dir_all(&tiles).unwrap();
    for old in std::fs::read_dir(&tiles).unwrap().flatten() {
        std::fs::remove_file(old.path()).unwrap();
    }
    std::fs::copy(testdata().join(archive), tiles.join(archive)).unwrap();
}

/// One test, in steps, so that the environment below is set while no other test runs.
#[tokio::test]
async fn map_draws_an_archives_tiles_from_the_device_only() {
    let tmp = tempfile::tempdir().unwrap();
    // The demo keeps its store in a folder of std::env::temp_dir(); giving it (and the
    // browser) a TMPDIR of their own lets this test find that folder and put tiles in it.
    // SAFETY: this binary's only test sets it first thing, before it starts any thread or
    // process; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("TMPDIR", tmp.path()) };
    let ui = Ui::start(&[]).await;
    let data_dir = demo_data_dir(tmp.path());

    // No archive: the grid, and the page says where one would go.
    open_map(&ui).await;
    assert_eq!(layer(&ui).await, "grid");
    assert_eq!(grid(&ui).await, "shown");
    assert!(loaded_tiles(&ui).await.is_empty());
    let hint = ui.text("#map-tiles").await;
    assert!(
        hint.contains("No map tiles")
            && hint.contains(&data_dir.join("tiles").display().to_string()),
        "{hint}"
    );
    assert_all_requests_local(&ui, "the map without tiles").await;
    ui.assert_no_script_ran("the map without tiles").await;

    // A PMTiles archive copied in while the demo runs: the next load draws it.
    install(&data_dir, "raster.pmtiles");
    open_map(&ui).await;
    assert_eq!(layer(&ui).await, "tiles");
    let first = assert_tiles_drawn(&ui, "raster.pmtiles").await;
    println!("raster.pmtiles: tiles shown {first:?}");
    assert!(
        ui.text("#map-tiles")
            .await
            .contains("PiWardrive test tiles from tiles/raster.pmtiles"),
    );
    // The archive's attribution, as text (its HTML link is gone).
    assert_eq!(
        ui.text(".leaflet-control-attribution").await,
        "© Test tiles & Co"
    );
    assert_eq!(
        ui.browser
            .js("return document.querySelectorAll('.leaflet-control-attribution a').length;")
            .await,
        0
    );
    assert!(
        ui.browser
            .js("return !!document.querySelector('.leaflet-control-scale');")
            .await
            == Value::Bool(true)
    );
    ui.browser.screenshot("map-tiles").await;
    // The first view stays within the tiles' reach (the archive's deepest level, 3, enlarged
    // at most four levels), so no grid; zoomed in past that, the grid takes over.
    assert_eq!(grid(&ui).await, "hidden");
    for _ in 0..8 {
        ui.click(".leaflet-control-zoom-in").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    ui.wait_js(
        "return document.querySelector('#map').dataset.grid === 'shown';",
        Duration::from_secs(10),
    )
    .await;
    ui.browser.screenshot("map-tiles-zoomed-past").await;
    assert_all_requests_local(&ui, "the map with raster.pmtiles").await;
    ui.assert_no_script_ran("the map with raster.pmtiles").await;

    // Replaced by the MBTiles it was converted from: the same tiles, under new URLs.
    install(&data_dir, "raster.mbtiles");
    open_map(&ui).await;
    let second = assert_tiles_drawn(&ui, "raster.mbtiles").await;
    let version = |srcs: &[String]| srcs[0].split("?v=").nth(1).unwrap().to_owned();
    assert_ne!(version(&first), version(&second));
    assert_all_requests_local(&ui, "the map with raster.mbtiles").await;
    ui.assert_no_script_ran("the map with raster.mbtiles").await;

    // A vector archive: refused in words, and the grid drawn.
    install(&data_dir, "vector.pmtiles");
    open_map(&ui).await;
    assert_eq!(layer(&ui).await, "grid");
    let problem = ui.text("#map-tiles-problem").await;
    assert!(
        problem.contains("vector.pmtiles")
            && problem.contains("vector tiles are not supported; use a raster archive"),
        "{problem}"
    );
    assert!(loaded_tiles(&ui).await.is_empty());
    ui.browser.screenshot("map-vector-refused").await;
    assert_all_requests_local(&ui, "the map with a vector archive").await;
    ui.assert_no_script_ran("the map with a vector archive")
        .await;
}
