def test_login_page_renders_in_both_languages(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="en"' in page.text and 'dir="ltr"' in page.text
    client.set_language("ar")
    page = client.get("/login")
    assert 'lang="ar"' in page.text and 'dir="rtl"' in page.text


def test_home_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_signed_in_user_sees_home(client, login_as):
    user = login_as("admin")
    page = client.get("/")
    assert page.status_code == 200
    assert user.name in page.text


def test_lists_offer_an_export_of_what_they_show(client, login_as):
    login_as("outreach")
    page = client.get("/partners/?type=syrian_cso")
    assert "/exports/partners?" in page.text and "type=syrian_cso" in page.text
    assert "/exports/frameworks" in client.get("/frameworks/").text
    assert "/exports/engagements" in client.get("/engagements/").text


def test_viewer_is_not_offered_exports(client, login_as):
    login_as("viewer")
    assert "/exports/" not in client.get("/partners/").text


def test_account_page_links_to_api_tokens(client, login_as):
    login_as("outreach")
    assert "/account/api-tokens" in client.get("/account").text
