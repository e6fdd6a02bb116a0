//! 工作报告 in the browser's terms: the template list, the editor with its server-side
//! preview and Chinese errors, saving versions, the report page with its gaps, DOCX and PDF
//! downloads, finalising and the page of a finalised report.

mod common;

use common::*;

#[tokio::test]
async fn editor_previews_saves_versions_and_refuses_bad_text() {
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let list = clerk.page(&app, "/reports").await;
    for name in [
        "乡镇年度工作总结及下年度工作计划",
        "城乡低保拟纳入对象公示",
        "村情简介（每村一页）",
    ] {
        assert!(list.contains(name), "{name} not listed");
    }
    let editor = clerk.page(&app, "/reports/templates/village_profile").await;
    assert!(editor.contains("标题：{单位名称}村情简介"), "{editor}");

    // A mistake is reported with its line and character, and the text is kept.
    let bad = "标题：{单位名称}\n粮食{GRAIN_AREA";
    let res = clerk
        .client
        .post(app.url("/reports/preview"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("template", "village_profile"),
            ("body", bad),
            ("org", TOUCHANG),
            ("period", "2023"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("模板有误：第2行第3字：花括号“{”没有闭合，缺少“}”"),
        "{html}"
    );
    assert!(html.contains("粮食{GRAIN_AREA</textarea>"));

    // A good text previews with the unit's name and lists what has no data.
    let good = "标题：{单位名称}{年}年简报\n# 概况\n{单位名称}共{NO_SUCH_INDICATOR}。";
    let html = clerk
        .client
        .post(app.url("/reports/preview"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("template", "village_profile"),
            ("body", good),
            ("org", TOUCHANG),
            ("period", "2023"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("头昌村2023年简报"), "{html}");
    assert!(html.contains("一、概况"));
    assert!(html.contains("<mark class=\"missing\">【缺数据：NO_SUCH_INDICATOR】</mark>"));
    assert!(html.contains("缺数据 1 处"));

    // Saving a bad text changes nothing; a good one is a new version under a new code.
    let rows = app.audit_rows().await;
    let res = clerk
        .client
        .post(app.url("/reports/templates/village_profile"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("template", "village_profile"),
            ("name", "村情"),
            ("body", bad),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("模板有误，未保存"));
    assert_eq!(app.audit_rows().await, rows);
    // The built-in template belongs to everyone: a township saves its own copy.
    let res = clerk
        .client
        .post(app.url("/reports/templates/village_profile"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("template", "village_profile"),
            ("name", "村情"),
            ("body", good),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        403,
        "only the owner changes a built-in template"
    );
    let res = clerk
        .client
        .post(app.url("/reports/templates/village_profile"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("template", "village_profile"),
            ("name", "连城乡村情"),
            ("body", good),
            ("save_as", "lianchen_profile"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/reports/templates/lianchen_profile?saved=1"
    );
    let page = clerk
        .page(&app, "/reports/templates/lianchen_profile?saved=1")
        .await;
    assert!(page.contains("已保存为第1版") && page.contains("NO_SUCH_INDICATOR"));

    // A village cadre reads templates but may not change them.
    let cadre = app.login("cadre").await;
    let res = cadre
        .client
        .post(app.url("/reports/templates/lianchen_profile"))
        .form(&[
            ("csrf", cadre.csrf.as_str()),
            ("template", "lianchen_profile"),
            ("name", "x"),
            ("body", good),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn report_downloads_finalises_and_compares() {
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let page = clerk
        .page(&app, "/reports/annual/361002201?period=2023")
        .await;
    assert!(
        page.contains("连城乡2023年工作总结及2024年工作计划"),
        "{page}"
    );
    assert!(page.contains("一、2023年工作总结"));

    for (format, magic, ctype) in [
        ("docx", &b"PK"[..], "wordprocessingml"),
        ("pdf", &b"%PDF"[..], "application/pdf"),
    ] {
        let res = clerk
            .client
            .get(app.url(&format!(
                "/reports/annual/361002201?period=2023&format={format}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{format}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains(ctype)
        );
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(magic), "{format}");
    }

    let res = clerk
        .client
        .post(app.url("/reports/annual/361002201/finalise"))
        .form(&[("csrf", clerk.csrf.as_str()), ("period", "2023")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/reports/finals/"));
    let page = clerk.page(&app, &location).await;
    assert!(page.contains("定稿以来没有数字变化"), "{page}");
    let list = clerk.page(&app, "/reports").await;
    assert!(list.contains(&location));

    // A village cadre may read the report of the village, not finalise it.
    let cadre = app.login("cadre").await;
    let page = cadre
        .page(
            &app,
            &format!("/reports/village_profile/{TOUCHANG}?period=2023"),
        )
        .await;
    assert!(page.contains("头昌村村情简介"), "{page}");
    assert!(!page.contains("定稿（冻结数字）"));
    let res = cadre
        .client
        .post(app.url(&format!("/reports/village_profile/{TOUCHANG}/finalise")))
        .form(&[("csrf", cadre.csrf.as_str()), ("period", "2023")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
