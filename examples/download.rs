//! Create → wait → download, in a few lines.
//!
//! ```sh
//! cargo run --example download            # offline: against the simulator, saves ./<task-id>.mp4
//! LOWCODEAPI_API_TOKEN=at_… cargo run --example download   # the real thing
//! ```

use std::time::Duration;

use lowcodeapi_runwayml::{Client, ImageToVideo, Model, PollSchedule, PromptImage, Ratio};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // With a token, LowCodeAPI; without, a simulator in this process (10× real time).
    let (client, schedule, _sim) = match Client::from_env() {
        Ok(client) => (client, PollSchedule::default(), None),
        Err(_) => {
            let sim = Simulator::builder().time_scale(10.0).start().await?;
            let client = Client::builder()
                .api_token(DEFAULT_TOKEN)
                .base_url(sim.base_url())
                .build()?;
            (
                client,
                PollSchedule::every(Duration::from_millis(500)),
                Some(sim),
            )
        }
    };

    let task = client
        .image_to_video(
            ImageToVideo::new(
                Model::Gen4Turbo,
                PromptImage::url("https://upload.wikimedia.org/wikipedia/commons/8/85/Tour_Eiffel_Wikimedia_Commons_(cropped).jpg")?,
            )
            .prompt_text("A timelapse on a sunny day with clouds flying by")
            .ratio(Ratio::W1280H720)
            .duration(5),
        )
        .await?;
    let done = client.wait(&task).schedule(schedule).await?;
    let saved = client
        .download(&done)
        .on_progress(|p| eprint!("\r{} / {} bytes", p.bytes, p.total.unwrap_or(0)))
        .to(".")
        .await?;
    eprintln!();
    for file in &saved.files {
        println!(
            "{} ({} bytes, sha256 {})",
            file.location, file.bytes, file.sha256
        );
    }
    Ok(())
}
